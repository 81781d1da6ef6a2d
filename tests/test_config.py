from __future__ import annotations

import stat
from pathlib import Path

import pytest

from crypto.kdf import KdfParams
from onion_app.config import DEFAULT_MAX_CONTENT_LENGTH, Config, ensure_instance
from onion_app.errors import ConfigError
from onion_app.store import Database, keys


def test_defaults_need_nothing_set(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    config = Config.from_env({})
    assert config.instance_path == tmp_path / "instance"
    assert config.db_path == tmp_path / "instance" / "haven.db"
    assert config.db_passphrase is None
    assert config.secret_key is None
    assert config.host == "127.0.0.1"
    assert (config.public_port, config.staff_port) == (8080, 8081)
    assert config.max_content_length == DEFAULT_MAX_CONTENT_LENGTH
    assert (config.match_min, config.triage_limit, config.widen_after_days) == (1, 3, 3)


def test_values_come_from_haven_variables(tmp_path: Path) -> None:
    config = Config.from_env({
        "HAVEN_INSTANCE": str(tmp_path / "x"),
        "HAVEN_DB_PASSPHRASE": "correct horse battery",
        "HAVEN_PUBLIC_PORT": "9000",
        "HAVEN_STAFF_PORT": "9001",
        "HAVEN_SECRET_KEY": "k" * 40,
        "HAVEN_MATCH_MIN": "2", "HAVEN_TRIAGE_LIMIT": "5", "HAVEN_WIDEN_AFTER_DAYS": "7",
    })
    assert (config.match_min, config.triage_limit, config.widen_after_days) == (2, 5, 7)
    assert config.instance_path == tmp_path / "x"
    assert config.db_passphrase == "correct horse battery"
    assert (config.public_port, config.staff_port) == (9000, 9001)
    assert config.secret_key == b"k" * 40


def test_secrets_stay_out_of_repr(tmp_path: Path) -> None:
    config = Config.from_env({
        "HAVEN_INSTANCE": str(tmp_path), "HAVEN_DB_PASSPHRASE": "a very secret phrase",
        "HAVEN_SECRET_KEY": "s" * 40,
    })
    assert "a very secret phrase" not in repr(config)
    assert "sss" not in repr(config)


@pytest.mark.parametrize(("name", "value", "message"), [
    ("HAVEN_HOST", "0.0.0.0", "loopback"),  # noqa: S104
    ("HAVEN_PUBLIC_PORT", "eighty", "whole number"),
    ("HAVEN_STAFF_PORT", "70000", "port number"),
    ("HAVEN_STAFF_PORT", "8080", "must differ"),
    ("HAVEN_DB_PASSPHRASE", "short", "at least 12"),
    ("HAVEN_SECRET_KEY", "short", "at least 32"),
    ("HAVEN_MAX_CONTENT_LENGTH", "1000", "at least 65536"),
    ("HAVEN_MATCH_MIN", "-1", "at least 0"),
    ("HAVEN_TRIAGE_LIMIT", "-1", "at least 0"),
    ("HAVEN_WIDEN_AFTER_DAYS", "0", "at least 1"),
])
def test_bad_values_are_refused_by_name(name: str, value: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message) as caught:
        Config.from_env({name: value})
    if name not in ("HAVEN_DB_PASSPHRASE", "HAVEN_SECRET_KEY"):
        assert name in str(caught.value)
    else:
        assert value not in str(caught.value)


def test_config_is_frozen(tmp_path: Path) -> None:
    config = Config.from_env({"HAVEN_INSTANCE": str(tmp_path)})
    with pytest.raises(AttributeError):
        config.host = "::1"  # type: ignore[misc]


def test_instance_folder_is_private(tmp_path: Path) -> None:
    config = Config.from_env({"HAVEN_INSTANCE": str(tmp_path / "inst")})
    path = ensure_instance(config)
    assert stat.S_IMODE(path.stat().st_mode) == 0o700


def test_instance_that_is_a_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "inst").write_text("x")
    config = Config.from_env({"HAVEN_INSTANCE": str(tmp_path / "inst")})
    with pytest.raises(ConfigError, match="not a folder"):
        ensure_instance(config)


def test_tor_options_are_pairs() -> None:
    config = Config.from_env({"HAVEN_TOR_OPTIONS": "DisableNetwork 1; UseBridges 1;"})
    assert config.tor_options == (("DisableNetwork", "1"), ("UseBridges", "1"))
    with pytest.raises(ConfigError, match="HAVEN_TOR_OPTIONS"):
        Config.from_env({"HAVEN_TOR_OPTIONS": "Evil\nLine 1"})


def test_production_uses_the_real_argon2id_costs(tmp_path: Path) -> None:
    # The tests run with the cheapest argon2id (tests/haven_process.py,
    # CHEAP_KDF); production must not.
    config = Config.from_env({"HAVEN_INSTANCE": str(tmp_path / "instance"),
                              "HAVEN_DB_PASSPHRASE": "a long database passphrase"})
    assert config.kdf_params == KdfParams(opslimit=2, memlimit=256 * 1024 * 1024)
    assert config.db_kdf_params == KdfParams(opslimit=3, memlimit=256 * 1024 * 1024)
    Database(config).init()
    assert keys.recorded_params(keys.read_file_salt(config.db_path)) == config.db_kdf_params


def test_the_tests_themselves_run_cheap(config: Config) -> None:
    assert config.kdf_params == KdfParams(opslimit=1, memlimit=8 * 1024)
    assert config.db_kdf_params == KdfParams(opslimit=1, memlimit=8 * 1024)


PASSPHRASE = "a long database passphrase"


def test_the_passphrase_can_come_from_a_file(tmp_path: Path) -> None:
    """As systemd-ask-password writes it: one line, with its newline."""
    secret = tmp_path / "db-passphrase"
    secret.write_text(PASSPHRASE + "\n")
    config = Config.from_env({"HAVEN_DB_PASSPHRASE_FILE": str(secret)})
    assert config.db_passphrase == PASSPHRASE


def test_the_passphrase_can_come_from_a_systemd_credential(tmp_path: Path) -> None:
    """LoadCredentialEncrypted=haven-db-passphrase puts it in $CREDENTIALS_DIRECTORY."""
    (tmp_path / "haven-db-passphrase").write_text(" spaces count " + PASSPHRASE)
    config = Config.from_env({"CREDENTIALS_DIRECTORY": str(tmp_path)})
    assert config.db_passphrase == " spaces count " + PASSPHRASE
    assert Config.from_env({"CREDENTIALS_DIRECTORY": str(tmp_path / "none")}).db_passphrase \
        is None


@pytest.mark.parametrize(("content", "message"), [
    (None, "cannot read"),
    (b"\n", "is empty"),
    (b"\xff" * 20, "not UTF-8"),
    (b"x" * 5000, "longer than a passphrase"),
    (b"short\n", "at least 12"),
], ids=["missing", "empty", "not-utf8", "too-long", "too-short"])
def test_a_bad_passphrase_file_is_named_not_quoted(tmp_path: Path, content: bytes | None,
                                                   message: str) -> None:
    secret = tmp_path / "db-passphrase"
    if content is not None:
        secret.write_bytes(content)
    with pytest.raises(ConfigError, match=message) as caught:
        Config.from_env({"HAVEN_DB_PASSPHRASE_FILE": str(secret)})
    if content is not None and content.strip():
        assert content.decode("utf-8", "replace").strip() not in str(caught.value)


def test_a_passphrase_in_two_places_is_refused(tmp_path: Path) -> None:
    secret = tmp_path / "db-passphrase"
    secret.write_text(PASSPHRASE)
    with pytest.raises(ConfigError, match="not both"):
        Config.from_env({"HAVEN_DB_PASSPHRASE_FILE": str(secret),
                         "HAVEN_DB_PASSPHRASE": PASSPHRASE})


def test_the_mail_relay_comes_from_one_url(tmp_path: Path) -> None:
    config = Config.from_env({"HAVEN_INSTANCE": str(tmp_path),
                              "HAVEN_SMTP_URL": "smtp://notes%40example.org:s%3Acret@mail.example.org",
                              "HAVEN_NOTIFY_HOUR": "7"})
    relay = config.relay
    assert relay is not None
    assert (relay.host, relay.port, relay.username, relay.password, relay.sender) == \
        ("mail.example.org", 587, "notes@example.org", "s:cret", "notes@example.org")
    assert config.notify_hour == 7
    assert config.smtp_direct is False
    assert "s:cret" not in repr(config)
    assert "s%3Acret" not in repr(config)
    assert "s:cret" not in repr(relay)
    assert Config.from_env({"HAVEN_INSTANCE": str(tmp_path)}).relay is None


@pytest.mark.parametrize(("environ", "message"), [
    ({"HAVEN_SMTP_URL": "smtps://u:secret1@h:465"}, "smtp://user:password@host:587"),
    ({"HAVEN_SMTP_URL": "smtp://user:secret1@h:99999"}, "port"),
    ({"HAVEN_SMTP_URL": "smtp://user:secret1@h"}, "HAVEN_SMTP_FROM"),
    ({"HAVEN_SMTP_URL": "smtp://h", "HAVEN_SMTP_FROM": "a@b@c"}, "HAVEN_SMTP_FROM"),
    ({"HAVEN_NOTIFY_HOUR": "24"}, "HAVEN_NOTIFY_HOUR"),
    ({"HAVEN_SMTP_SOCKS": "10.0.0.1:9050"}, "loopback"),
    ({"HAVEN_SMTP_SOCKS": "unix:relative"}, "absolute"),
])
def test_bad_mail_settings_are_refused_without_the_password(
        tmp_path: Path, environ: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message) as refused:
        Config.from_env({"HAVEN_INSTANCE": str(tmp_path), **environ})
    assert "secret1" not in str(refused.value)
