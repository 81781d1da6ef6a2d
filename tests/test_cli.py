"""``python run.py``: the operator's one command, run as a real process."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _env(instance: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HAVEN_")}
    env.update(HAVEN_INSTANCE=str(instance), HAVEN_PUBLIC_PORT="0", HAVEN_STAFF_PORT="0")
    env.update(extra)
    return env


def _run(instance: Path, *args: str, **extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(ROOT / "run.py"), *args], env=_env(instance, **extra),
        capture_output=True, text=True, timeout=60, check=False,
    )


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], dict[str, str]]]:
    process = subprocess.Popen(
        [sys.executable, str(ROOT / "run.py"), "--local"], env=_env(tmp_path / "instance"),
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    addresses: dict[str, str] = {}
    try:
        assert process.stdout is not None
        for line in process.stdout:
            match = re.match(r"(public|staff) .*: (http://127\.0\.0\.1:\d+/)$", line.strip())
            if match:
                addresses[match.group(1)] = match.group(2)
            if len(addresses) == 2:
                break
        assert len(addresses) == 2, "run.py did not print both addresses"
        yield process, addresses
    finally:
        if process.poll() is None:
            process.kill()
        process.communicate(timeout=10)


def test_local_serves_both_landing_pages_and_stops_on_sigterm(
    server: tuple[subprocess.Popen[str], dict[str, str]],
) -> None:
    process, addresses = server
    with urllib.request.urlopen(addresses["public"], timeout=10) as response:
        public = response.read().decode()
        assert response.headers["Content-Security-Policy"].startswith("default-src 'none'")
        assert response.headers.get("Server") is None
    with urllib.request.urlopen(addresses["staff"], timeout=10) as response:
        staff = response.read().decode()
    assert "Safe help from people who care" in public
    assert "Haven for volunteers" in staff
    process.send_signal(signal.SIGTERM)
    remaining, _ = process.communicate(timeout=20)
    assert process.returncode == 0
    assert "stopped" in remaining
    # No access log: nothing about the two page loads was printed.
    assert "GET" not in remaining


def test_first_run_creates_private_instance(tmp_path: Path,
                                            server: tuple[subprocess.Popen[str], dict[str, str]]
                                            ) -> None:
    instance = tmp_path / "instance"
    assert instance.stat().st_mode & 0o777 == 0o700
    assert (instance / "db.key").stat().st_mode & 0o777 == 0o600
    assert (instance / "haven.db").stat().st_mode & 0o077 == 0
    assert not (instance / "haven.db").read_bytes().startswith(b"SQLite format 3")


def test_wrong_key_stops_with_one_sentence(tmp_path: Path) -> None:
    instance = tmp_path / "instance"
    assert _run(instance, "init").returncode == 0
    (instance / "db.key").write_text("ab" * 32 + "\n")
    before = (instance / "haven.db").read_bytes()
    for args in (("init",), ("--local",)):
        result = _run(instance, *args)
        assert result.returncode == 1
        assert result.stderr.strip() == "Error: the key does not open " + str(instance / "haven.db")
        assert "Traceback" not in result.stderr + result.stdout
        assert (instance / "haven.db").read_bytes() == before


def test_wrong_passphrase_stops_with_one_sentence(tmp_path: Path) -> None:
    instance = tmp_path / "instance"
    assert _run(instance, "init", HAVEN_DB_PASSPHRASE="the right passphrase").returncode == 0
    assert not (instance / "db.key").exists()
    result = _run(instance, "init", HAVEN_DB_PASSPHRASE="not the right one!")
    assert result.returncode == 1
    assert "the key does not open" in result.stderr
    assert "not the right one" not in result.stderr + result.stdout


def test_the_passphrase_is_read_from_a_file_or_a_systemd_credential(tmp_path: Path) -> None:
    """The deployment keeps the passphrase off the disk (a prompt into /run, or
    a TPM-sealed systemd credential); run.py reads it from either."""
    instance, prompted, credentials = tmp_path / "instance", tmp_path / "run", tmp_path / "creds"
    prompted.mkdir()
    credentials.mkdir()
    (prompted / "db-passphrase").write_text("the right passphrase\n")
    made = _run(instance, "init", HAVEN_DB_PASSPHRASE_FILE=str(prompted / "db-passphrase"))
    assert made.returncode == 0, made.stderr
    assert not (instance / "db.key").exists()
    (credentials / "haven-db-passphrase").write_text("the right passphrase")
    assert _run(instance, "init", CREDENTIALS_DIRECTORY=str(credentials)).returncode == 0
    (credentials / "haven-db-passphrase").write_text("not the right one!")
    refused = _run(instance, "init", CREDENTIALS_DIRECTORY=str(credentials))
    assert refused.returncode == 1
    assert "the key does not open" in refused.stderr
    assert "not the right one" not in refused.stderr + refused.stdout


def test_bad_setting_is_named(tmp_path: Path) -> None:
    result = _run(tmp_path / "instance", "init", HAVEN_PUBLIC_PORT="eighty")
    assert result.returncode == 1
    assert result.stderr.strip() == "Error: HAVEN_PUBLIC_PORT must be a whole number"
    assert not (tmp_path / "instance").exists()


def test_help_lists_the_commands(tmp_path: Path) -> None:
    result = _run(tmp_path / "instance", "--help")
    assert result.returncode == 0
    for command in ("init", "upgrade", "backup", "rekey", "--local"):
        assert command in result.stdout


def _schema(instance: Path) -> tuple[int, list[str]]:
    from onion_app.config import Config
    from onion_app.store import Database

    conn = Database(Config.from_env({"HAVEN_INSTANCE": str(instance)})).open()
    try:
        version = conn.execute("SELECT max(version) FROM schema_version").fetchone()[0]
        names = [row[0] for row in conn.execute("SELECT name FROM sqlite_master ORDER BY name")]
    finally:
        conn.close()
    return int(version), names


def test_a_newer_haven_started_beside_a_running_one_leaves_its_database_alone(
    tmp_path: Path, server: tuple[subprocess.Popen[str], dict[str, str]],
) -> None:
    """A copy of this tree with one migration more: it must be refused before
    it migrates the file the running Haven serves."""
    instance = tmp_path / "instance"
    before = _schema(instance)
    newer = tmp_path / "newer"
    newer.mkdir()
    shutil.copytree(ROOT / "onion_app", newer / "onion_app",
                    ignore=shutil.ignore_patterns("__pycache__"))
    for shared in ("crypto", "tor_config", "templates", "translations"):
        (newer / shared).symlink_to(ROOT / shared)
    shutil.copy(ROOT / "run.py", newer / "run.py")
    migrations = newer / "onion_app" / "store" / "migrations"
    version = max(int(p.name[:4]) for p in migrations.glob("*.sql")) + 1
    (migrations / f"{version:04d}_from_a_newer_haven.sql").write_text(
        "CREATE TABLE from_a_newer_haven (id INTEGER PRIMARY KEY);\n", "utf-8")
    second = subprocess.run(
        [sys.executable, str(newer / "run.py"), "--local"], env=_env(instance),
        capture_output=True, text=True, timeout=60, check=False, cwd=newer)
    assert second.returncode == 1, second.stdout + second.stderr
    assert "Haven is already running for" in second.stderr
    after = _schema(instance)
    assert after == before
    assert "from_a_newer_haven" not in after[1]
    # The copy does migrate once nothing runs: the refusal, not a broken copy,
    # is what kept the file unchanged.
    process, _ = server
    process.send_signal(signal.SIGTERM)
    process.communicate(timeout=20)
    upgraded = subprocess.run(
        [sys.executable, str(newer / "run.py"), "upgrade"], env=_env(instance),
        capture_output=True, text=True, timeout=60, check=False, cwd=newer)
    assert upgraded.returncode == 0, upgraded.stdout + upgraded.stderr
    assert _schema(instance)[0] == version


def test_a_first_run_says_how_to_make_the_first_operator(tmp_path: Path) -> None:
    process = subprocess.Popen(
        [sys.executable, str(ROOT / "run.py"), "--local"], env=_env(tmp_path / "instance"),
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    lines: list[str] = []
    try:
        assert process.stdout is not None
        for line in process.stdout:
            lines.append(line)
            if "serving on loopback" in line:
                break
        (staff,) = [match.group(1) for line in lines if (match := re.match(
            r"staff .*: (http://127\.0\.0\.1:\d+/)$", line.strip()))]
        with urllib.request.urlopen(staff, timeout=10) as response:
            landing = response.read().decode()
    finally:
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=20)
    assert any(line.startswith("no operator yet: create the first with .venv/bin/haven "
                               "operator create HANDLE") for line in lines), lines
    assert "No operator yet." in landing
    assert ".venv/bin/haven operator create HANDLE" in landing
