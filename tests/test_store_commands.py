from __future__ import annotations

import secrets
from pathlib import Path

from flask.testing import FlaskCliRunner

from onion_app import create_app
from onion_app.config import Config
from onion_app.store.connection import open_database
from onion_app.store.keys import from_passphrase, read_file_salt, read_key_file
from tests.haven_cli import cli_runner


def _runner(config: Config) -> FlaskCliRunner:
    return cli_runner(create_app("staff", config))


def test_init_then_init_again(config: Config) -> None:
    runner = _runner(config)
    first = runner.invoke(args=["init"])
    assert first.exit_code == 0, first.output
    assert "created" in first.output
    second = runner.invoke(args=["init"])
    assert second.exit_code == 0
    assert "opened" in second.output


def test_init_with_wrong_key_is_one_sentence_and_changes_nothing(initialised: Config) -> None:
    before = initialised.db_path.read_bytes()
    initialised.db_key_path.write_text(secrets.token_hex(32))
    result = _runner(initialised).invoke(args=["init"])
    assert result.exit_code != 0
    assert result.output.strip() == "Error: the key does not open " + str(initialised.db_path)
    assert initialised.db_path.read_bytes() == before


def test_init_refuses_a_plain_sqlite_file(config: Config) -> None:
    import sqlite3

    config.instance_path.mkdir()
    plain = sqlite3.connect(config.db_path)
    plain.execute("CREATE TABLE notes (x)")
    plain.commit()
    plain.close()
    config.db_key_path.write_text(secrets.token_hex(32))
    before = config.db_path.read_bytes()
    result = _runner(config).invoke(args=["init"])
    assert result.exit_code != 0
    assert "plain SQLite file, not an encrypted Haven database" in result.output
    assert "Traceback" not in result.output
    assert config.db_path.read_bytes() == before


def test_upgrade_on_current_schema(initialised: Config) -> None:
    result = _runner(initialised).invoke(args=["upgrade"])
    assert result.exit_code == 0
    assert "already at schema version" in result.output


def test_upgrade_without_database(config: Config) -> None:
    result = _runner(config).invoke(args=["upgrade"])
    assert result.exit_code != 0
    assert "run `.venv/bin/haven init`" in result.output
    assert not config.db_path.exists()


def test_backup_command(initialised: Config, tmp_path: Path) -> None:
    target = tmp_path / "copy.db"
    result = _runner(initialised).invoke(args=["backup", str(target)])
    assert result.exit_code == 0, result.output
    open_database(target, read_key_file(initialised.db_key_path)).close()
    again = _runner(initialised).invoke(args=["backup", str(target)])
    assert again.exit_code != 0
    assert "already exists" in again.output


def test_backup_with_passphrase_prompt(initialised: Config, tmp_path: Path) -> None:
    target = tmp_path / "copy.db"
    phrase = "a passphrase for off-site"
    result = _runner(initialised).invoke(args=["backup", "--passphrase", str(target)],
                                         input=f"{phrase}\n{phrase}\n")
    assert result.exit_code == 0, result.output
    assert phrase not in result.output
    open_database(target, from_passphrase(phrase, read_file_salt(target))).close()


def test_rekey_command(initialised: Config) -> None:
    old = read_key_file(initialised.db_key_path)
    result = _runner(initialised).invoke(args=["rekey"])
    assert result.exit_code == 0, result.output
    assert read_key_file(initialised.db_key_path).raw != old.raw


def test_rekey_to_short_passphrase_is_refused(initialised: Config) -> None:
    before = initialised.db_path.read_bytes()
    result = _runner(initialised).invoke(args=["rekey", "--passphrase"], input="short\nshort\n")
    assert result.exit_code != 0
    assert "at least 12 characters" in result.output
    assert initialised.db_path.read_bytes() == before
