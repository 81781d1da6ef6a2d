"""The one database handle: the key derived once, connections handed out and closed."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
import sqlcipher3

from crypto import kdf
from crypto.kdf import KdfParams
from onion_app.config import Config
from onion_app.errors import DatabaseMissing, WrongDatabaseKey
from onion_app.store import Database, migrations


def _count_derivations(monkeypatch: pytest.MonkeyPatch) -> list[KdfParams]:
    seen: list[KdfParams] = []
    real = kdf.derive_key

    def counted(secret: bytes, salt: bytes, size: int, params: KdfParams) -> bytes:
        seen.append(params)
        return real(secret, salt, size, params)

    monkeypatch.setattr(kdf, "derive_key", counted)
    return seen


def test_the_key_is_derived_once_per_handle(config: Config,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    config = config.with_changes(db_passphrase="a long database passphrase")
    seen = _count_derivations(monkeypatch)
    database = Database(config)
    assert database.init().created
    for _ in range(5):
        with database.connect() as conn:
            conn.execute("SELECT 1").fetchone()
    database.upgrade()
    assert len(seen) == 1
    # A second process (a second handle) pays once more, and only once.
    again = Database(config)
    for _ in range(3):
        again.open().close()
    assert len(seen) == 2


def _insert_then_fail(database: Database) -> None:
    with database.connect() as conn:
        conn.execute("INSERT INTO settings (name, value) VALUES ('x', x'00')")
        raise RuntimeError("the body failed")


def test_connect_rolls_back_what_the_body_left_open(database: Database) -> None:
    with pytest.raises(RuntimeError):
        _insert_then_fail(database)
    with database.connect() as conn:
        assert conn.execute("SELECT count(*) FROM settings WHERE name = 'x'").fetchone()[0] == 0


def test_init_is_safe_to_repeat(initialised: Config) -> None:
    database = Database(initialised)
    result = database.init()
    assert not result.created
    assert result.applied == []
    with database.connect() as conn:
        assert migrations.current_version(conn) == migrations.latest_version()


def test_a_missing_database_is_one_sentence(config: Config) -> None:
    with pytest.raises(DatabaseMissing, match="does not exist"):
        Database(config).open()


def test_a_wrong_passphrase_never_opens(config: Config) -> None:
    Database(config.with_changes(db_passphrase="a long database passphrase")).init()
    with pytest.raises(WrongDatabaseKey):
        Database(config.with_changes(db_passphrase="another passphrase entirely")).open()


# Kept connections, one per server thread -------------------------------------

def _in_thread(work: Callable[[], object]) -> object:
    found: list[object] = []
    thread = threading.Thread(target=lambda: found.append(work()))
    thread.start()
    thread.join()
    return found[0]


def test_a_thread_keeps_its_connection_and_another_gets_its_own(database: Database) -> None:
    mine = database.thread_connection()
    assert database.thread_connection() is mine
    theirs = _in_thread(database.thread_connection)
    assert theirs is not mine
    database.close()


def test_the_page_cache_is_the_configured_size(initialised: Config) -> None:
    database = Database(initialised.with_changes(db_cache_kib=1234))
    assert database.thread_connection().execute("PRAGMA cache_size").fetchone()[0] == -1234
    database.close()


def test_release_rolls_back_what_a_request_left_open(database: Database) -> None:
    conn = database.thread_connection()
    conn.execute("INSERT INTO settings (name, value) VALUES ('left-open', 'x')")
    database.release(conn)
    assert not conn.in_transaction
    with database.connect() as other:
        assert other.execute("SELECT 1 FROM settings WHERE name = 'left-open'").fetchone() is None
    # The same connection serves the thread's next request.
    assert database.thread_connection() is conn
    database.close()


def test_a_kept_connection_sees_what_another_connection_committed(database: Database) -> None:
    kept = database.thread_connection()
    assert kept.execute("SELECT 1 FROM settings WHERE name = 'later'").fetchone() is None
    database.release(kept)
    with database.connect() as other:
        other.execute("INSERT INTO settings (name, value) VALUES ('later', 'x')")
        other.commit()
    assert kept.execute("SELECT 1 FROM settings WHERE name = 'later'").fetchone() is not None
    database.close()


def test_close_closes_every_kept_connection(database: Database) -> None:
    mine = database.thread_connection()
    theirs = _in_thread(database.thread_connection)
    database.close()
    for conn in (mine, theirs):
        with pytest.raises(sqlcipher3.ProgrammingError):
            conn.execute("SELECT 1")  # type: ignore[attr-defined]
    assert database.thread_connection() is not mine  # a new one, after a close
    database.close()


def test_the_connection_of_an_ended_thread_is_closed(database: Database) -> None:
    theirs = _in_thread(database.thread_connection)  # that thread has ended
    database.thread_connection()  # opening another prunes the ended thread's
    with pytest.raises(sqlcipher3.ProgrammingError):
        theirs.execute("SELECT 1")  # type: ignore[attr-defined]
    database.close()
