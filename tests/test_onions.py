"""``python run.py`` with a real tor that has no network (DisableNetwork 1).

Tor with DisableNetwork accepts ADD_ONION and answers with v3 addresses, and
never touches the network: these tests run Haven's whole launch path offline.
Instance folders live under a short /tmp path because a unix socket path must
fit in 107 bytes.
"""

from __future__ import annotations

import os
import pty
import re
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from onion_app.config import Config
from onion_app.errors import HavenError
from onion_app.serving.onions import OnionServices
from onion_app.store import Database, onion_keys
from tests.haven_process import ROOT, haven_env, run_command, running_haven

pytestmark = pytest.mark.tor
OFFLINE = {"HAVEN_TOR_OPTIONS": "DisableNetwork 1"}


@pytest.fixture
def instance() -> Iterator[Path]:
    folder = Path(tempfile.mkdtemp(prefix="hav-", dir="/tmp"))
    yield folder / "instance"
    shutil.rmtree(folder, ignore_errors=True)


def _tor_pids(instance: Path) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            command = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if command and command[0].endswith(b"tor") and str(instance).encode() in b" ".join(command):
            found.append(int(entry.name))
    return found


def _config(instance: Path) -> Config:
    return Config.from_env({"HAVEN_INSTANCE": str(instance)})


def test_run_publishes_both_services_and_cleans_up(instance: Path) -> None:
    with running_haven(instance, **OFFLINE) as haven:
        addresses = dict(haven.addresses)
        # Not a terminal (a pipe, like systemd's journal): the key is not printed.
        assert haven.staff_private_key is None, haven.output()
        assert "a first device key that is not shown here" in haven.output()
        assert "tor cannot reach the network yet" in haven.output()
        assert f"read {instance / 'tor' / 'tor.log'};" in haven.output()
        assert "give it bridges in HAVEN_TOR_OPTIONS" in haven.output()
        assert _tor_pids(instance), "Haven's tor is not running"
        for role in ("public", "staff"):
            socket = instance / f"{role}.sock"
            assert socket.is_socket()
            assert socket.stat().st_mode & 0o777 == 0o600
    assert haven.process.returncode == 0
    assert "both onion services are removed" in haven.output()
    deadline = time.monotonic() + 15
    while _tor_pids(instance) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not _tor_pids(instance), "Haven's tor outlived Haven"
    # The keys are inside the encrypted database, never in tor's key files.
    assert not list(instance.rglob("hs_ed25519_secret_key"))
    conn = Database(_config(instance)).open()
    assert onion_keys.service_key(conn, "public")
    assert [name for name, _, _ in onion_keys.clients(conn)] == ["first-device"]
    conn.close()
    with running_haven(instance, **OFFLINE) as again:
        assert again.addresses == addresses  # stable addresses across restarts
        assert "first device key" not in again.output()


def test_on_a_terminal_the_first_staff_key_is_shown_once(instance: Path) -> None:
    """An operator at a terminal sees the first device's key, and only then."""
    primary, secondary = pty.openpty()
    process = subprocess.Popen([sys.executable, str(ROOT / "run.py")],
                               env=haven_env(instance, **OFFLINE), stdin=subprocess.DEVNULL,
                               stdout=secondary, stderr=secondary)
    os.close(secondary)
    seen = b""
    try:
        deadline = time.monotonic() + 60
        while b"serving;" not in seen and time.monotonic() < deadline:
            ready, _, _ = select.select([primary], [], [], 1)
            if ready:
                seen += os.read(primary, 65536)
    finally:
        process.send_signal(signal.SIGTERM)
        # Keep reading while it stops: a full terminal buffer would block its
        # last lines, and with them its exit.
        deadline = time.monotonic() + 60
        while process.poll() is None and time.monotonic() < deadline:
            ready, _, _ = select.select([primary], [], [], 0.5)
            if ready:
                try:
                    seen += os.read(primary, 65536)
                except OSError:  # the other end is closed: it has exited
                    break
        if process.poll() is None:
            process.kill()
        process.wait(timeout=60)
        os.close(primary)
    text = seen.decode(errors="replace")
    assert "It is shown once" in text, text
    found = re.search(r"Your private key:\s+([A-Z2-7]{52})", text)
    assert found
    again = run_command(instance, "staff-key", "list", **OFFLINE)
    assert "first-device" in again.stdout
    assert found.group(1) not in again.stdout


def test_watchdog_brings_tor_back_with_the_same_addresses(instance: Path) -> None:
    with running_haven(instance, **OFFLINE) as haven:
        [pid] = _tor_pids(instance)
        os.kill(pid, signal.SIGKILL)
        haven.wait_for_line("tor watchdog (tor lost)", timeout=60)
        haven.wait_for_line(f"(service restored): staff at {haven.addresses['staff']}",
                            timeout=60)
        assert _tor_pids(instance) not in ([], [pid])
        status = run_command(instance, "status", **OFFLINE)
        assert status.returncode == 0, status.stderr
        for address in haven.addresses.values():
            assert address in status.stdout
    conn = Database(_config(instance)).open()
    actions = [row[0] for row in conn.execute("SELECT action FROM audit_log")]
    conn.close()
    assert "tor: tor_lost" in actions
    assert "tor: service_restored" in actions


def test_the_database_passphrase_is_stretched_once_per_process(instance: Path,
                                                                tmp_path: Path) -> None:
    """One start, a SIGHUP and a tor restart: the passphrase is stretched exactly
    once, and the dummy verifier for unknown staff handles is made once, at start."""
    passphrase = {**OFFLINE, "HAVEN_DB_PASSPHRASE": "a long database passphrase"}
    made = run_command(instance, "init", **passphrase)
    assert made.returncode == 0, made.stderr
    log = tmp_path / "kdf.log"
    counting = {**passphrase, "HAVEN_TEST_KDF_LOG": str(log),
                "PYTHONPATH": str(ROOT / "tests" / "kdf_counter")}
    with running_haven(instance, **counting) as haven:
        os.kill(haven.process.pid, signal.SIGHUP)
        added = run_command(instance, "staff-key", "add", "laptop", **passphrase)
        assert added.returncode == 0, added.stderr
        haven.wait_for_line("staff onion service updated", timeout=30)
        [pid] = _tor_pids(instance)
        os.kill(pid, signal.SIGKILL)
        haven.wait_for_line(f"(service restored): staff at {haven.addresses['staff']}",
                            timeout=60)
    runs = [line.split()[0] for line in log.read_text("ascii").splitlines()]
    assert sorted(runs) == ["kdf", "str"], runs


def test_cli_changes_reach_the_running_haven(instance: Path) -> None:
    with running_haven(instance, **OFFLINE) as haven:
        old_public = haven.addresses["public"]
        added = run_command(instance, "staff-key", "add", "laptop", **OFFLINE)
        assert added.returncode == 0, added.stderr
        assert "Applied to the running Haven." in added.stdout
        haven.wait_for_line("staff onion service updated", timeout=30)
        # The reload at start-up ran before this one: it re-published nothing,
        # since the keys tor made at the first start are no change.
        updates = [line for line in haven.lines if "onion service updated" in line]
        assert updates == [f"staff onion service updated: {haven.addresses['staff']}"], updates
        rotated = run_command(instance, "onion", "rotate", "public", "--yes", **OFFLINE)
        assert rotated.returncode == 0, rotated.stderr
        new_public = rotated.stdout.split("new public address: ")[1].split()[0]
        assert new_public != old_public
        haven.wait_for_line(f"public onion service updated: {new_public}", timeout=30)
        status = run_command(instance, "status", **OFFLINE)
        assert new_public in status.stdout
        assert "PoW on" in status.stdout
        assert "2 authorized devices" in status.stdout
        revoked = run_command(instance, "staff-key", "revoke", "laptop", **OFFLINE)
        assert revoked.returncode == 0, revoked.stderr


def test_a_wrong_database_key_stops_before_tor(instance: Path) -> None:
    assert run_command(instance, "init").returncode == 0
    (instance / "db.key").write_text("cd" * 32 + "\n")
    result = subprocess.run([sys.executable, str(ROOT / "run.py")],
                            env=haven_env(instance, **OFFLINE), capture_output=True, text=True,
                            timeout=60, check=False)
    assert result.returncode == 1
    assert result.stderr.strip() == f"Error: the key does not open {instance / 'haven.db'}"
    assert not _tor_pids(instance)


def test_stopping_while_tor_starts_leaves_nothing_behind(instance: Path) -> None:
    """SIGTERM as soon as the addresses appear, during the bootstrap wait."""
    with running_haven(instance, ready="tor: 0%", **OFFLINE, HAVEN_BOOTSTRAP_WAIT="30") as haven:
        haven.process.send_signal(signal.SIGTERM)
        haven.process.wait(timeout=30)
    assert haven.process.returncode == 0
    assert not _tor_pids(instance)  # stopped by Haven itself, not by tor's owner check
    assert not (instance / "haven.pid").exists()
    assert not (instance / "public.sock").exists()


def test_a_second_haven_on_the_same_instance_is_refused(instance: Path) -> None:
    with running_haven(instance, **OFFLINE) as haven:
        second = run_command(instance, **OFFLINE)
        assert second.returncode == 1
        assert "Haven is already running for" in second.stderr
        assert (instance / "public.sock").is_socket()  # the first one's sockets are untouched
        status = run_command(instance, "status", **OFFLINE)
        assert f"running (pid {haven.process.pid})" in status.stdout


def test_a_crashed_haven_is_replaced_cleanly(instance: Path) -> None:
    with running_haven(instance, **OFFLINE) as haven:
        addresses = dict(haven.addresses)
        haven.process.kill()  # no cleanup at all: pid file, sockets, tor all left
        haven.process.wait(timeout=10)
    stale = run_command(instance, "staff-key", "add", "after-crash", **OFFLINE)
    assert "Haven is not running" in stale.stdout  # the stale pid file is not believed
    with running_haven(instance, **OFFLINE) as again:
        assert again.addresses == addresses
        assert "stopped a tor left running" in again.output()
        assert len(_tor_pids(instance)) == 1


def test_a_staff_onion_without_client_keys_is_never_published(instance: Path) -> None:
    assert run_command(instance, "init").returncode == 0
    assert run_command(instance, "staff-key", "add", "only").returncode == 0
    conn = Database(_config(instance)).open()
    conn.execute("DELETE FROM staff_clients")
    conn.commit()
    conn.close()
    with pytest.raises(HavenError, match="would be open to anyone"):
        OnionServices(Database(_config(instance)), print).start()
    assert not _tor_pids(instance)


def test_rotating_while_stopped_removes_the_old_address_from_an_attached_tor(
        instance: Path) -> None:
    sys.path.insert(0, str(ROOT / "tests" / "tor_config"))
    from tor_helpers import free_port, start_operator_tor, stop_process

    from tor_config.control import connect, parse_control_address
    from tor_config.onion import running_services

    port = free_port()
    operator_tor = start_operator_tor(instance.parent / "system-tor",
                                      [f"ControlPort 127.0.0.1:{port}", "CookieAuthentication 1"])
    attach = {"HAVEN_TOR_CONTROL": f"127.0.0.1:{port}"}
    try:
        with running_haven(instance, **attach) as haven:
            old = haven.addresses["public"].removesuffix(".onion")
            haven.process.kill()  # detached services stay in the operator's tor
            haven.process.wait(timeout=10)
        rotated = run_command(instance, "onion", "rotate", "public", "--yes", **attach)
        assert rotated.returncode == 0, rotated.stderr
        with running_haven(instance, **attach) as again:
            new = again.addresses["public"].removesuffix(".onion")
            controller = connect(parse_control_address(f"127.0.0.1:{port}"))
            try:
                listed = running_services(controller)
            finally:
                controller.close()
            assert new in listed
            assert old not in listed
    finally:
        stop_process(operator_tor)


def test_tor_killed_during_the_bootstrap_wait_heals(instance: Path) -> None:
    """Tor with DisableNetwork never finishes bootstrapping: the wait lasts its
    whole bound, and tor is killed inside it."""
    with running_haven(instance, ready="tor: 0%", **OFFLINE, HAVEN_BOOTSTRAP_WAIT="25") as haven:
        [pid] = _tor_pids(instance)
        os.kill(pid, signal.SIGKILL)
        haven.wait_for_line("tor stopped while starting", timeout=30)
        haven.wait_for_line(f"(service restored): staff at {haven.addresses['staff']}",
                            timeout=60)
        haven.wait_for_line(f"(service restored): public at {haven.addresses['public']}",
                            timeout=10)
        haven.wait_for_line("serving; press Ctrl-C to stop", timeout=60)
        assert haven.process.poll() is None
        assert "ControlError" not in haven.output()
        assert _tor_pids(instance) not in ([], [pid])
    assert haven.process.returncode == 0


def test_a_held_database_lock_does_not_stop_the_watchdog(instance: Path) -> None:
    """The watchdog writes each tor event to the audit log; a write lock held
    by another connection makes those writes fail, and tor must heal anyway."""
    with running_haven(instance, **OFFLINE) as haven:
        holder = Database(_config(instance)).open()
        holder.execute("BEGIN IMMEDIATE")
        holder.execute("UPDATE settings SET value = value")
        try:
            [pid] = _tor_pids(instance)
            os.kill(pid, signal.SIGKILL)
            haven.wait_for_line("the tor event is not in the audit log", timeout=60)
            haven.wait_for_line(f"(service restored): staff at {haven.addresses['staff']}",
                                timeout=90)
        finally:
            holder.rollback()
            holder.close()
        assert haven.process.poll() is None
        assert "watchdog crashed" not in haven.output()
