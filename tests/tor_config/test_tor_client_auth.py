"""Client authorization: key pairs, the lines handed to devices, and tor's view of them.

Granting and revoking a device is :meth:`Watchdog.replace_service`, tested in
test_tor_watchdog.py and, over a network, in test_tor_private_network.py.
"""

from __future__ import annotations

import base64
from dataclasses import replace

import pytest
from nacl.public import PrivateKey
from tor_helpers import MemoryKeyStore
from tor_network import register_client_key

from tor_config.client_auth import generate_client_keys, install_instructions, tor_browser_line
from tor_config.control import HavenController
from tor_config.errors import InvalidClientKey, InvalidOnionAddress
from tor_config.keys import base32_to_base64
from tor_config.onion import ServiceSpec, publish

SERVICE_ID = "pi5pl225yplp33d3slckd3rykrxd42th7seh5kmy62csyb2uvz4ilhid"


def test_key_pair_halves_belong_together() -> None:
    pair = generate_client_keys()
    assert len(pair.public) == len(pair.private) == 52
    raw_private = base64.b32decode(pair.private + "====")
    assert bytes(PrivateKey(raw_private).public_key) == base64.b32decode(pair.public + "====")
    assert pair.private not in repr(pair)


def test_tor_browser_line() -> None:
    pair = generate_client_keys()
    line = tor_browser_line(SERVICE_ID + ".onion", pair.private.lower())
    assert line == f"{SERVICE_ID}:descriptor:x25519:{pair.private}"


def test_install_instructions_carry_address_key_and_line() -> None:
    pair = generate_client_keys()
    text = install_instructions(SERVICE_ID, pair.private)
    assert f"http://{SERVICE_ID}.onion/" in text
    assert f"Your private key:   {pair.private}\n" in text
    assert tor_browser_line(SERVICE_ID, pair.private) in text
    assert "ClientOnionAuthDir" in text


def test_lines_refuse_bad_input() -> None:
    with pytest.raises(InvalidOnionAddress):
        tor_browser_line("example.onion", generate_client_keys().private)
    with pytest.raises(InvalidClientKey):
        tor_browser_line(SERVICE_ID, "AAAA")


@pytest.mark.tor
def test_tor_accepts_client_auth_and_reports_the_keys(
    controller: HavenController, specs: list[ServiceSpec]
) -> None:
    devices = [generate_client_keys() for _ in range(3)]
    staff = replace(specs[1], client_keys=tuple(d.public for d in devices))
    reply = controller.msg(
        f"ADD_ONION NEW:ED25519-V3 Flags=Detach,V3Auth Port=80,{staff.target} "
        + " ".join(f"ClientAuthV3={d.public}" for d in devices)
    )
    assert reply.is_ok(), reply
    # Tor echoes each accepted key back, in base32, as ClientAuthV3= lines.
    echoed = {line.split("=", 1)[1] for line in reply if line.startswith("ClientAuthV3=")}
    assert echoed == {d.public for d in devices}
    service = publish(controller, [staff], MemoryKeyStore())["staff"]
    assert service.client_keys == staff.client_keys


@pytest.mark.tor
def test_registered_client_key_is_what_tor_shows_in_base64(controller: HavenController) -> None:
    # The private-network tests hand the client tor its keys this way.
    pair = generate_client_keys()
    register_client_key(controller, SERVICE_ID, pair.private)
    register_client_key(controller, SERVICE_ID, pair.private)  # 251 "replaced" is fine
    view = str(controller.msg(f"ONION_CLIENT_AUTH_VIEW {SERVICE_ID}"))
    assert f"CLIENT {SERVICE_ID} x25519:{base32_to_base64(pair.private)}" in view
