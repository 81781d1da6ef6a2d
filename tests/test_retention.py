from __future__ import annotations

from onion_app.config import Config
from onion_app.domain import retention
from onion_app.store import Database, oversight
from onion_app.web.state import Runtime
from tests.haven_cli import HavenCliRunner


def test_purge_vacuums_when_much_is_free(initialised: Config) -> None:
    conn = Database(initialised).open()
    conn.execute("CREATE TABLE filler (x BLOB)")
    conn.executemany("INSERT INTO filler VALUES (?)", [(b"x" * 4000,) for _ in range(200)])
    conn.commit()
    conn.execute("DELETE FROM filler")
    conn.commit()
    assert oversight.free_fraction(conn) > retention.VACUUM_FREE_FRACTION
    retention.purge(conn, 90)
    assert oversight.free_fraction(conn) == 0.0
    conn.close()


def test_purge_without_a_database_is_one_sentence(config: Config) -> None:
    missing = config.with_changes(instance_path=config.instance_path.parent / "absent")
    result = HavenCliRunner(Runtime.for_config(missing)).invoke(args=["purge"])
    assert result.exit_code != 0
    assert "does not exist" in result.output
    assert "Traceback" not in result.output


def test_operator_create_needs_a_database(config: Config) -> None:
    missing = config.with_changes(instance_path=config.instance_path.parent / "absent")
    result = HavenCliRunner(Runtime.for_config(missing)).invoke(
        args=["operator", "create", "op"])
    assert result.exit_code != 0
    assert "does not exist" in result.output
