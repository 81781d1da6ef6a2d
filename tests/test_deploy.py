"""``deploy/``: the systemd unit keeps the database passphrase and decrypted
text off the disk."""

from __future__ import annotations

from pathlib import Path

from onion_app.config import CREDENTIAL_NAME

ROOT = Path(__file__).resolve().parent.parent


def _settings(path: Path) -> list[tuple[str, str]]:
    """``Key=value`` lines of a unit file, in order (a key may repeat)."""
    pairs = []
    for line in path.read_text().splitlines():
        if line and not line.startswith(("#", "[")):
            key, _, value = line.partition("=")
            pairs.append((key, value))
    return pairs


def test_the_unit_keeps_decrypted_memory_off_the_disk() -> None:
    unit = dict(_settings(ROOT / "deploy/haven.service"))
    assert unit["MemorySwapMax"] == "0"
    assert unit["LimitCORE"] == "0"


def test_the_unit_asks_for_the_passphrase_into_memory() -> None:
    unit = _settings(ROOT / "deploy/haven.service")
    settings = dict(unit)
    assert settings["RuntimeDirectory"] == "haven"  # /run/haven: tmpfs, removed at stop
    environment = [value for key, value in unit if key == "Environment"]
    assert "HAVEN_DB_PASSPHRASE_FILE=/run/haven/db-passphrase" in environment
    assert "systemd-ask-password" in settings["ExecStartPre"]
    assert "> /run/haven/db-passphrase" in settings["ExecStartPre"]
    assert all("HAVEN_DB_PASSPHRASE=" not in value for _, value in unit)


def test_the_tpm_drop_in_hands_haven_the_credential_it_reads() -> None:
    drop_in = _settings(ROOT / "deploy/haven-tpm.conf")
    assert ("ExecStartPre", "") in drop_in  # no prompt
    assert ("Environment", "HAVEN_DB_PASSPHRASE_FILE=") in drop_in
    name, _, sealed = dict(drop_in)["LoadCredentialEncrypted"].partition(":")
    assert name == CREDENTIAL_NAME
    assert sealed.startswith("/etc/credstore.encrypted/")
