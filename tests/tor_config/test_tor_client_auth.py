"""Client authorization: key pairs, the lines handed to devices, and tor's view of them."""

from __future__ import annotations

import base64
from dataclasses import replace

import pytest
from nacl.public import PrivateKey

from tor_config.client_auth import (
    authorize_client,
    authorized_clients_line,
    generate_client_keys,
    install_instructions,
    public_key_for,
    register_client_key,
    revoke_client,
    tor_browser_line,
)
from tor_config.control import HavenController
from tor_config.errors import InvalidClientKey, InvalidOnionAddress, OnionServiceError
from tor_config.keys import base32_to_base64
from tor_config.onion import MemoryKeyStore, ServiceSpec, publish, running_services

SERVICE_ID = "pi5pl225yplp33d3slckd3rykrxd42th7seh5kmy62csyb2uvz4ilhid"


def test_key_pair_halves_belong_together() -> None:
    pair = generate_client_keys()
    assert len(pair.public) == len(pair.private) == 52
    assert public_key_for(pair.private) == pair.public
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


def test_authorized_clients_line() -> None:
    pair = generate_client_keys()
    assert authorized_clients_line(pair.public) == f"descriptor:x25519:{pair.public}"


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
    pair = generate_client_keys()
    register_client_key(controller, SERVICE_ID, pair.private)
    register_client_key(controller, SERVICE_ID, pair.private)  # 251 "replaced" is fine
    view = str(controller.msg(f"ONION_CLIENT_AUTH_VIEW {SERVICE_ID}"))
    assert f"CLIENT {SERVICE_ID} x25519:{base32_to_base64(pair.private)}" in view


@pytest.mark.tor
def test_revoke_and_authorize_keep_the_address(
    controller: HavenController, specs: list[ServiceSpec]
) -> None:
    alice, bob = generate_client_keys(), generate_client_keys()
    staff = replace(specs[1], client_keys=(alice.public,))
    keystore = MemoryKeyStore()
    before = publish(controller, [staff], keystore)["staff"]
    staff, with_bob = authorize_client(controller, staff, bob.public, keystore)
    assert staff.client_keys == (alice.public, bob.public)
    staff, without_alice = revoke_client(controller, staff, alice.public, keystore)
    assert staff.client_keys == (bob.public,)
    assert before.address == with_bob.address == without_alice.address
    assert without_alice.client_keys == (bob.public,)
    assert without_alice.service_id in running_services(controller)


@pytest.mark.tor
def test_revoking_the_last_or_an_unknown_key_is_refused(
    controller: HavenController, specs: list[ServiceSpec]
) -> None:
    keystore = MemoryKeyStore()
    publish(controller, [specs[1]], keystore)
    with pytest.raises(OnionServiceError, match="open to anyone"):
        revoke_client(controller, specs[1], specs[1].client_keys[0], keystore)
    with pytest.raises(InvalidClientKey, match="not authorized"):
        revoke_client(controller, specs[1], generate_client_keys().public, keystore)
