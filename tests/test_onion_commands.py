"""The onion commands through the CLI runner, with Haven stopped."""

from __future__ import annotations

import datetime
import re

from flask import Flask
from nacl.public import PrivateKey

from onion_app.config import Config
from onion_app.serving.onions import save_status, status_path
from onion_app.serving.running import InstanceLock
from onion_app.store import Database, onion_keys
from tests.haven_cli import cli_runner
from tests.staff_journey import audit_log
from tor_config.bootstrap import BootstrapProgress
from tor_config.keys import decode_client_key, encode_base32
from tor_config.status import ServiceStatus, TorStatus, UploadCounts, describe

LINE = re.compile(r"^([a-z2-7]{56}):descriptor:x25519:([A-Z2-7]{52})$", re.M)


def public_key_for(private_key: str) -> str:
    """The base32 x25519 public key that belongs to a base32 private key."""
    return encode_base32(bytes(PrivateKey(decode_client_key(private_key)).public_key))


def test_staff_key_add_prints_the_line_once_and_stores_only_the_public_half(
        staff_app: Flask, initialised: Config) -> None:
    runner = cli_runner(staff_app)
    result = runner.invoke(args=["staff-key", "add", "laptop"])
    assert result.exit_code == 0, result.output
    found = LINE.search(result.output)
    assert found, result.output
    assert "Haven is not running" in result.output
    conn = Database(initialised).open()
    [(name, public, _day)] = onion_keys.clients(conn)
    staff_key = onion_keys.service_key(conn, "staff")
    conn.close()
    assert name == "laptop"
    assert public == public_key_for(found.group(2))
    assert staff_key is not None  # made now, so the address is known before tor runs
    listed = runner.invoke(args=["staff-key", "list"])
    assert "laptop  (added " in listed.output
    assert found.group(2) not in listed.output


def test_staff_key_names_and_duplicates(staff_app: Flask) -> None:
    runner = cli_runner(staff_app)
    assert runner.invoke(args=["staff-key", "add", "bad name!"]).exit_code != 0
    assert runner.invoke(args=["staff-key", "add", "phone"]).exit_code == 0
    again = runner.invoke(args=["staff-key", "add", "phone"])
    assert again.exit_code != 0
    assert "exists" in again.output


def test_the_last_staff_key_cannot_be_revoked(staff_app: Flask) -> None:
    runner = cli_runner(staff_app)
    runner.invoke(args=["staff-key", "add", "one"])
    last = runner.invoke(args=["staff-key", "revoke", "one"])
    assert last.exit_code != 0
    assert "open to anyone" in last.output
    runner.invoke(args=["staff-key", "add", "two"])
    assert runner.invoke(args=["staff-key", "revoke", "one"]).exit_code == 0
    assert "no device named" in runner.invoke(args=["staff-key", "revoke", "one"]).output


def test_rotate_asks_first_and_changes_the_address(staff_app: Flask,
                                                   initialised: Config) -> None:
    runner = cli_runner(staff_app)
    declined = runner.invoke(args=["onion", "rotate", "public"], input="n\n")
    assert declined.exit_code != 0
    first = runner.invoke(args=["onion", "rotate", "public"], input="y\n")
    assert first.exit_code == 0, first.output
    second = runner.invoke(args=["onion", "rotate", "public", "--yes"])
    old = second.output.split("old public address: ")[1].split()[0]
    new = second.output.split("new public address: ")[1].split()[0]
    assert old in first.output
    assert old != new
    assert ("cli", "rotated the public onion", new) in audit_log(initialised)


def test_status_with_haven_stopped(staff_app: Flask) -> None:
    result = cli_runner(staff_app).invoke(args=["status"])
    assert result.exit_code == 0
    assert "Haven: not running" in result.output
    assert "public address: (made at first start)" in result.output


def test_status_of_a_running_haven_describes_its_status_file(
        staff_app: Flask, initialised: Config) -> None:
    status = TorStatus("0.4.9.11", BootstrapProgress(0, "starting", "Starting"), (
        ServiceStatus("public", "a" * 56 + ".onion", True, True, 0,
                      (UploadCounts(datetime.date(2026, 11, 26), 6, 1),)),
        ServiceStatus("staff", "b" * 56 + ".onion", True, False, 1, ()),
    ))
    runner = cli_runner(staff_app)
    lock = InstanceLock(initialised)
    lock.acquire()
    try:
        starting = runner.invoke(args=["status"])
        status_path(initialised).write_text('{"running": true, "status": {"vers')  # cut short
        cut_short = runner.invoke(args=["status"])
        save_status(initialised, None, "control connection lost")
        lost = runner.invoke(args=["status"])
        save_status(initialised, status)
        shown = runner.invoke(args=["status"])
    finally:
        lock.release()
    assert "tor: no status yet (Haven is starting)" in starting.output
    assert "tor: no status yet (Haven is starting)" in cut_short.output
    assert "the watchdog is recovering (control connection lost)" in lost.output
    assert shown.output.endswith(describe(status) + "\n")
    assert "  2026-11-26: 6 descriptor uploads, 1 failed\n" in shown.output
    assert "staff: running, PoW off, 1 authorized device\n" in shown.output


def test_torrc_block(staff_app: Flask, initialised: Config) -> None:
    result = cli_runner(staff_app).invoke(args=["torrc", "--service-dir", "/srv/tor"])
    assert result.exit_code == 0, result.output
    text = result.output
    for line in ("Sandbox 1", "SafeLogging 1", "HiddenServiceDir /srv/tor/haven-public",
                 "HiddenServicePoWDefensesEnabled 1",
                 "HiddenServiceMaxStreams 20", "HiddenServiceMaxStreamsCloseCircuit 1",
                 f"HiddenServicePort 80 unix:{initialised.instance_path / 'public.sock'}"):
        assert line in text
    # Only the public onion: the staff onion's client authorization keeps strangers out.
    assert text.count("HiddenServiceMaxStreams ") == 1
