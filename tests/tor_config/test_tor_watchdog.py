"""The watchdog brings the services back after tor or its control connection dies."""

from __future__ import annotations

import os
import signal
from dataclasses import replace
from pathlib import Path

import pytest
import stem.control
from tor_helpers import (
    OFFLINE,
    MemoryKeyStore,
    free_port,
    start_operator_tor,
    stop_process,
    wait_until,
)

from tor_config.control import AttachedTor, parse_control_address
from tor_config.onion import ServiceSpec, running_services
from tor_config.process import LaunchedTor, TorProcess
from tor_config.watchdog import Watchdog, WatchdogEvent


def kinds(events: list[WatchdogEvent]) -> list[str]:
    return [event.kind for event in events]


@pytest.mark.tor
def test_killed_tor_is_relaunched_with_the_same_addresses(
    short_dir: Path, specs: list[ServiceSpec]
) -> None:
    source = LaunchedTor(short_dir / "tor", extra_options=OFFLINE)
    events: list[WatchdogEvent] = []
    controllers: list[stem.control.Controller] = []
    watchdog = Watchdog(
        source, specs, MemoryKeyStore(), events.append, interval=0.1,
        on_controller=controllers.append,
    )
    try:
        before = watchdog.start()
        assert source.process is not None
        old_pid = source.process.pid
        os.kill(old_pid, signal.SIGKILL)
        wait_until(lambda: kinds(events).count("service_restored") == 2, 30, "both services")
        assert kinds(events) == ["tor_lost", "tor_reopened", "service_restored", "service_restored"]
        assert "exited" in events[0].detail or "lost" in events[0].detail
        assert {e.detail for e in events[2:]} == {f"{n} at {s.address}" for n, s in before.items()}
        after = watchdog.services
        assert {n: s.address for n, s in after.items()} == {n: s.address for n, s in before.items()}
        assert source.process.pid != old_pid
        controller = watchdog.controller
        assert controller is not None
        assert controllers == [controllers[0], controller]
        assert {s.service_id for s in after.values()} <= running_services(controller)
    finally:
        watchdog.stop()
        source.stop()


@pytest.mark.tor
def test_service_removed_behind_our_back_is_re_added(
    short_dir: Path, specs: list[ServiceSpec]
) -> None:
    port = free_port()
    process = start_operator_tor(
        short_dir / "system-tor", [f"ControlPort 127.0.0.1:{port}", "CookieAuthentication 1"]
    )
    source = AttachedTor(parse_control_address(f"127.0.0.1:{port}"))
    events: list[WatchdogEvent] = []
    watchdog = Watchdog(source, specs, MemoryKeyStore(), events.append, interval=0.1)
    try:
        services = watchdog.start()
        with source.open() as other:
            other.msg(f"DEL_ONION {services['public'].service_id}")
            wait_until(lambda: "service_restored" in kinds(events), 30, "the re-added service")
            assert events[0].kind == "tor_lost"
            assert events[0].detail == "tor no longer runs public"
            assert services["public"].service_id in running_services(other)
            watchdog.stop(remove_services=True)
            assert not {s.service_id for s in services.values()} & running_services(other)
    finally:
        watchdog.stop()
        stop_process(process)


@pytest.mark.tor
def test_lost_tor_is_reported_once_and_retried(short_dir: Path, specs: list[ServiceSpec]) -> None:
    port = free_port()
    options = [f"ControlPort 127.0.0.1:{port}", "CookieAuthentication 1"]
    process = start_operator_tor(short_dir / "system-tor", options)
    # A stopped tor refuses at once; the timeout only matters while a tor is
    # starting, and on a loaded machine one may take over a second to answer:
    # a timed-out probe then is a second, different failure, reported anew.
    source = AttachedTor(parse_control_address(f"127.0.0.1:{port}"), timeout=5)
    events: list[WatchdogEvent] = []
    # A revocation made while watching must survive the recovery.
    watchdog = Watchdog(source, specs, MemoryKeyStore(), events.append, interval=0.1)
    try:
        watchdog.start()
        assert watchdog.replace_service(replace(specs[1], client_keys=())) is not None
        stop_process(process)
        wait_until(lambda: "recovery_failed" in kinds(events), 30, "a failed recovery")
        assert watchdog.controller is None
        assert "cannot reach tor's control port" in events[-1].detail
        # Operator restarts their tor; the watchdog gets back in.
        process = start_operator_tor(short_dir / "system-tor", options)
        wait_until(lambda: kinds(events).count("service_restored") == 2, 30, "both services")
        assert kinds(events).count("recovery_failed") == 1
        assert watchdog.services["staff"].client_keys == ()
    finally:
        watchdog.stop()
        stop_process(process)


@pytest.mark.tor
def test_replace_service_publishes_a_change_and_retires_the_old(
    shared_tor: TorProcess, specs: list[ServiceSpec]
) -> None:
    from tor_config.client_auth import generate_client_keys
    from tor_config.keys import new_service_key, service_id_from_key

    keystore = MemoryKeyStore()
    source = AttachedTor(parse_control_address(shared_tor.control_socket))
    watchdog = Watchdog(source, specs, keystore, lambda _event: None, interval=60)
    try:
        before = watchdog.start()
        staff = next(s for s in specs if s.name == "staff")
        more = replace(staff, client_keys=(*staff.client_keys, generate_client_keys().public))
        updated = watchdog.replace_service(more)
        assert updated is not None
        assert updated.service_id == before["staff"].service_id  # same address
        assert len(updated.client_keys) == 2
        public = next(s for s in specs if s.name == "public")
        new_key = new_service_key()
        rotated = watchdog.replace_service(replace(public, key=new_key))
        assert rotated is not None
        assert rotated.service_id == service_id_from_key(new_key)
        controller = watchdog.controller
        assert controller is not None
        listed = running_services(controller)
        assert rotated.service_id in listed
        assert before["public"].service_id not in listed
        assert keystore.get("public") == new_key
        assert watchdog.services["public"].service_id == rotated.service_id
    finally:
        watchdog.stop(remove_services=True)
