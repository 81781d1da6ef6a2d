from __future__ import annotations

import pytest
from flask import Flask

from onion_app.config import Config
from onion_app.operator import commands
from onion_app.store import maintenance, oversight


def test_purge_vacuums_when_much_is_free(initialised: Config,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    conn, _ = maintenance.open_existing(initialised)
    conn.execute("CREATE TABLE filler (x BLOB)")
    conn.executemany("INSERT INTO filler VALUES (?)", [(b"x" * 4000,) for _ in range(200)])
    conn.commit()
    conn.execute("DELETE FROM filler")
    conn.commit()
    assert oversight.free_fraction(conn) > commands.VACUUM_FREE_FRACTION
    commands.purge_with(conn, 90)
    assert oversight.free_fraction(conn) == 0.0
    conn.close()


def test_purge_without_a_database_is_one_sentence(config: Config, staff_app: Flask) -> None:
    missing = config.with_changes(instance_path=config.instance_path.parent / "absent")
    from onion_app import create_app

    result = create_app("staff", missing).test_cli_runner().invoke(args=["purge"])
    assert result.exit_code != 0
    assert "does not exist" in result.output
    assert "Traceback" not in result.output


def test_operator_create_needs_a_database(config: Config) -> None:
    from onion_app import create_app

    missing = config.with_changes(instance_path=config.instance_path.parent / "absent")
    result = create_app("staff", missing).test_cli_runner().invoke(
        args=["operator", "create", "op"])
    assert result.exit_code != 0
    assert "does not exist" in result.output
