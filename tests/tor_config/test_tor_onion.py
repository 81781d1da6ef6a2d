"""Onion services against a real, offline tor: add, publish, re-add, remove."""

from __future__ import annotations

import base64
from dataclasses import replace
from pathlib import Path

import pytest
from tor_helpers import OFFLINE, STAFF_CLIENT_PUBLIC, MemoryKeyStore

from tor_config.control import HavenController
from tor_config.errors import (
    InvalidServiceKey,
    InvalidServiceSpec,
    UnknownService,
)
from tor_config.keys import service_id, service_id_from_key
from tor_config.onion import (
    ServiceSpec,
    add_onion_command,
    add_service,
    cut_connections,
    publish,
    remove_service,
    running_services,
)
from tor_config.pow import PowSettings
from tor_config.process import TorProcess, launch_tor


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({"name": "Public"}, "service name"),
        ({"name": ""}, "service name"),
        ({"target": "unix:relative.sock"}, "absolute path"),
        ({"target": "unix:/with space.sock"}, "absolute path"),
        ({"target": 'unix:/quote".sock'}, "absolute path"),
        ({"target": "10.0.0.1:8080"}, "127.0.0.1:PORT"),
        ({"target": "example.com:80"}, "127.0.0.1:PORT"),
        ({"target": "127.0.0.1:0"}, "127.0.0.1:PORT"),
        ({"target": "127.0.0.1:8080 Port=81,127.0.0.1:22"}, "127.0.0.1:PORT"),
        ({"virtual_port": 0}, "virtual port"),
        ({"key": "ED25519-V3:garbage"}, "base64"),
        ({"client_keys": ("short",)}, "32 bytes|base32"),
    ],
)
def test_bad_specs_are_refused_before_tor_sees_them(kwargs: dict[str, object], words: str) -> None:
    arguments: dict[str, object] = {"name": "public", "target": "127.0.0.1:8080", **kwargs}
    with pytest.raises(ValueError, match=words):
        ServiceSpec(**arguments)


def test_spec_repr_hides_the_key() -> None:
    key = "ED25519-V3:" + base64.b64encode(b"k" * 64).decode()
    assert "ED25519" not in repr(ServiceSpec("public", "127.0.0.1:8080", key=key))


def test_command_for_a_new_public_service() -> None:
    spec = ServiceSpec("public", "unix:/srv/haven/public.sock", pow=PowSettings(100, 1000))
    assert add_onion_command(spec) == (
        "ADD_ONION NEW:ED25519-V3 Flags=Detach Port=80,unix:/srv/haven/public.sock "
        "PoWDefensesEnabled=1 PoWQueueRate=100 PoWQueueBurst=1000"
    )
    assert "PoW" not in add_onion_command(spec, with_pow=False)


def test_command_with_a_stream_limit_per_circuit() -> None:
    spec = ServiceSpec("public", "unix:/srv/haven/public.sock", max_streams=20,
                       max_streams_close_circuit=True)
    assert add_onion_command(spec) == (
        "ADD_ONION NEW:ED25519-V3 Flags=Detach,MaxStreamsCloseCircuit MaxStreams=20 "
        "Port=80,unix:/srv/haven/public.sock"
    )
    quiet = ServiceSpec("public", "unix:/srv/haven/public.sock", max_streams=5)
    assert "Flags=Detach MaxStreams=5 " in add_onion_command(quiet)


@pytest.mark.parametrize(("changes", "words"), [
    ({"max_streams": -1}, "max_streams must be from 0"),
    ({"max_streams": 65536}, "max_streams must be from 0"),
    ({"max_streams_close_circuit": True}, "needs a max_streams"),
])
def test_bad_stream_limits_are_refused(changes: dict[str, object], words: str) -> None:
    with pytest.raises(ValueError, match=words):
        ServiceSpec("public", "127.0.0.1:8080", **changes)  # type: ignore[arg-type]


def test_command_for_a_staff_service_with_two_devices() -> None:
    other = base64.b32encode(bytes(32)).decode().rstrip("=")
    spec = ServiceSpec("staff", "127.0.0.1:8081", client_keys=(STAFF_CLIENT_PUBLIC, other.lower()))
    assert add_onion_command(spec) == (
        "ADD_ONION NEW:ED25519-V3 Flags=Detach,V3Auth Port=80,127.0.0.1:8081 "
        f"ClientAuthV3={STAFF_CLIENT_PUBLIC} ClientAuthV3={other}"
    )


@pytest.mark.tor
def test_publish_gives_both_services_v3_addresses(
    controller: HavenController, specs: list[ServiceSpec]
) -> None:
    keystore = MemoryKeyStore()
    services = publish(controller, specs, keystore)
    assert sorted(services) == ["public", "staff"]
    for name, service in services.items():
        assert service.address.endswith(".onion")
        assert service_id(service.address) == service.service_id
        assert keystore.get(name) == service.key
        assert service_id_from_key(service.key) == service.service_id
    assert services["public"].pow_enabled
    assert services["staff"].client_keys == (STAFF_CLIENT_PUBLIC,)
    assert {s.service_id for s in services.values()} <= running_services(controller)


@pytest.mark.tor
def test_tor_checks_the_stream_limit_keywords(controller: HavenController,
                                              specs: list[ServiceSpec]) -> None:
    # The public spec's MaxStreams and MaxStreamsCloseCircuit were accepted
    # above; the same command with the flag misspelt is refused, so tor reads them.
    command = add_onion_command(specs[0])
    assert "MaxStreamsCloseCircuit" in command
    refused = controller.msg(command.replace("MaxStreamsCloseCircuit", "MaxStreamsCloseCircut"))
    assert not refused.is_ok()
    assert "MaxStreamsCloseCircut" in str(refused)


@pytest.mark.tor
def test_restarted_tor_gives_the_same_addresses(short_dir: Path, specs: list[ServiceSpec]) -> None:
    keystore = MemoryKeyStore()
    addresses = []
    for run in ("first", "second"):
        tor = launch_tor(short_dir / run, extra_options=OFFLINE)
        try:
            with tor.connect() as controller:
                services = publish(controller, specs, keystore)
            addresses.append({name: s.address for name, s in services.items()})
        finally:
            tor.stop()
    assert addresses[0] == addresses[1]


@pytest.mark.tor
def test_services_survive_their_control_connection(
    shared_tor: TorProcess, controller: HavenController, specs: list[ServiceSpec]
) -> None:
    services = publish(controller, specs, MemoryKeyStore())
    controller.close()
    with shared_tor.connect() as again:
        assert {s.service_id for s in services.values()} <= running_services(again)


@pytest.mark.tor
def test_re_adding_after_reconnect_replaces_the_old_copy(
    controller: HavenController, specs: list[ServiceSpec]
) -> None:
    keystore = MemoryKeyStore()
    first = publish(controller, specs, keystore)
    # Tor answers "550 Onion address collision" to a plain re-add.
    raw = controller.msg(add_onion_command(replace(specs[0], key=first["public"].key)))
    assert raw.content()[-1][0] == "550"
    second = publish(controller, specs, keystore)
    assert {n: s.address for n, s in first.items()} == {n: s.address for n, s in second.items()}


@pytest.mark.tor
def test_garbage_key_in_the_store_is_a_clear_error(
    controller: HavenController, specs: list[ServiceSpec]
) -> None:
    keystore = MemoryKeyStore({"public": "ED25519-V3:bm90IGEga2V5"})
    with pytest.raises(InvalidServiceKey, match="64 bytes"):
        publish(controller, specs, keystore)


@pytest.mark.tor
def test_remove_service(controller: HavenController, specs: list[ServiceSpec]) -> None:
    service = add_service(controller, specs[0])
    remove_service(controller, service.address)
    assert service.service_id not in running_services(controller)
    with pytest.raises(UnknownService, match="no onion service"):
        remove_service(controller, service.service_id)
    remove_service(controller, service.service_id, missing_ok=True)


@pytest.mark.tor
def test_cutting_connections_of_an_unvisited_service(
    controller: HavenController, specs: list[ServiceSpec]
) -> None:
    # Offline nobody is connected; the e2e test cuts a real client off.
    service = add_service(controller, specs[0])
    assert cut_connections(controller, service.address) == 0


def test_pow_values_out_of_range_are_refused() -> None:
    with pytest.raises(InvalidServiceSpec, match="between 0 and 4294967295"):
        PowSettings(queue_rate=2**32)
