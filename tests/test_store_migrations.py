from __future__ import annotations

import secrets
from pathlib import Path

import pytest
import sqlcipher3

from onion_app.errors import NotAHavenDatabase, SchemaTooNew
from onion_app.store import migrations, staff
from onion_app.store.connection import Connection, open_database
from onion_app.store.keys import DatabaseKey


@pytest.fixture
def conn(tmp_path: Path) -> Connection:
    connection = open_database(tmp_path / "m.db", DatabaseKey(raw=secrets.token_bytes(32)),
                               create=True)
    yield connection
    connection.close()


def _schema(conn: Connection) -> list[tuple[str, str]]:
    return [tuple(row) for row in conn.execute(
        "SELECT name, sql FROM sqlite_master ORDER BY name")]


def test_files_are_numbered_in_order() -> None:
    versions = [m.version for m in migrations.available()]
    assert versions == sorted(versions)
    assert versions[0] == 1
    assert len(versions) == len(set(versions))


def test_empty_database_gets_every_migration(conn: Connection) -> None:
    applied = migrations.apply_pending(conn)
    assert [m.version for m in applied] == [m.version for m in migrations.available()]
    assert migrations.current_version(conn) == migrations.latest_version()
    days = [row[0] for row in conn.execute("SELECT applied_on FROM schema_version")]
    assert all(len(day) == 10 for day in days)  # YYYY-MM-DD: a day, never a time


def test_running_twice_changes_nothing(conn: Connection) -> None:
    migrations.apply_pending(conn)
    before = _schema(conn)
    rows = conn.execute("SELECT * FROM schema_version").fetchall()
    assert migrations.apply_pending(conn) == []
    assert _schema(conn) == before
    assert conn.execute("SELECT * FROM schema_version").fetchall() == rows


def test_foreign_tables_mean_not_haven(conn: Connection) -> None:
    conn.execute("CREATE TABLE customers (id INTEGER)")
    conn.commit()
    with pytest.raises(NotAHavenDatabase):
        migrations.apply_pending(conn)


def test_newer_schema_is_refused(conn: Connection) -> None:
    migrations.apply_pending(conn)
    conn.execute("INSERT INTO schema_version VALUES (?, '2099-01-01')",
                 (migrations.latest_version() + 1,))
    conn.commit()
    with pytest.raises(SchemaTooNew, match="newer than this Haven"):
        migrations.pending(conn)


def test_failed_migration_leaves_nothing_half_done(
    conn: Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    broken = migrations.Migration(1, "0001_broken.sql",
                                  "CREATE TABLE half (x);\nTHIS IS NOT SQL;")
    monkeypatch.setattr(migrations, "available", lambda: [broken])
    with pytest.raises(Exception, match="syntax error"):
        migrations.apply_pending(conn)
    names = {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}
    assert "half" not in names
    assert migrations.current_version(conn) == 0


def test_request_keys_migration_keeps_old_requests_on_the_account_key(
        conn: Connection, monkeypatch: pytest.MonkeyPatch) -> None:
    everything = migrations.available()
    monkeypatch.setattr(migrations, "available", lambda: [m for m in everything if m.version < 5])
    migrations.apply_pending(conn)
    conn.execute("INSERT INTO requesters (id, lookup_id, public_key, created_on)"
                 " VALUES (1, x'01', x'02', '2026-01-01')")
    conn.execute("INSERT INTO requests (public_id, requester_id, urgency, region, created_on,"
                 " updated_on) VALUES ('old', 1, 'normal', 'unsaid', '2026-01-01', '2026-01-01')")
    conn.commit()
    monkeypatch.setattr(migrations, "available", lambda: everything)
    assert [m.version for m in migrations.apply_pending(conn)][:1] == [5]
    row = conn.execute("SELECT requester_key, requester_key_version FROM requests").fetchone()
    assert tuple(row) == (None, None)  # NULL: sealed to the account key
    # A key without the version that derived it could never be derived again.
    for key, version in ((b"\x03", None), (None, 1)):
        with pytest.raises(sqlcipher3.IntegrityError, match="CHECK constraint failed"):
            conn.execute("UPDATE requests SET requester_key = ?, requester_key_version = ?",
                         (key, version))
    conn.rollback()


def test_hybrid_migration_marks_existing_stanzas_format_1(
        conn: Connection, monkeypatch: pytest.MonkeyPatch) -> None:
    everything = migrations.available()
    monkeypatch.setattr(migrations, "available", lambda: [m for m in everything if m.version < 8])
    migrations.apply_pending(conn)
    conn.execute("INSERT INTO requesters (id, lookup_id, public_key, created_on)"
                 " VALUES (1, x'01', x'02', '2026-01-01')")
    conn.execute("INSERT INTO requests (id, public_id, requester_id, urgency, region, created_on,"
                 " updated_on, requester_key, requester_key_version)"
                 " VALUES (1, 'old', 1, 'normal', 'unsaid', '2026-01-01', '2026-01-01', x'03', 1)")
    conn.execute("INSERT INTO request_readers (request_id, fingerprint, stanza)"
                 " VALUES (1, 'f', x'01aa')")
    # A volunteer reader's message stanza, as 0007 ties it to the volunteer.
    conn.execute("INSERT INTO volunteers (id, public_id, handle, public_key, created_on,"
                 " last_active_on) VALUES (4, 'p4', 'reader', x'04', '', '')")
    conn.execute("INSERT INTO request_readers (request_id, fingerprint, volunteer_id, stanza)"
                 " VALUES (1, 'f4', 4, x'01bb')")
    conn.execute("INSERT INTO messages (id, public_id, request_id, from_requester, created_on)"
                 " VALUES (1, 'm1', 1, 1, '2026-01-01')")
    conn.execute("INSERT INTO message_readers (message_id, fingerprint, stanza, volunteer_id)"
                 " VALUES (1, 'f4', x'01cc', 4)")
    conn.commit()
    monkeypatch.setattr(migrations, "available", lambda: everything)
    assert 8 in [m.version for m in migrations.apply_pending(conn)]
    assert {r[0] for r in conn.execute("SELECT stanza_format FROM request_readers")} == {1}
    assert tuple(conn.execute(
        "SELECT volunteer_id, stanza_format FROM message_readers").fetchone()) == (4, 1)
    assert tuple(conn.execute(
        "SELECT requester_key_version, requester_mlkem_key FROM requests").fetchone()) == (1, None)
    # Version 2 without its ML-KEM key (or with a key of the wrong size) is refused,
    # as is a format that is not the stanza's first byte.
    for statement, arguments in (
            ("UPDATE requests SET requester_key_version = 2", ()),
            ("UPDATE requests SET requester_key_version = 2, requester_mlkem_key = ?",
             (bytes(1183),)),
            ("UPDATE request_readers SET stanza_format = 2", ())):
        with pytest.raises(sqlcipher3.IntegrityError, match="CHECK constraint failed"):
            conn.execute(statement, arguments)
    conn.execute("UPDATE requests SET requester_key_version = 2, requester_mlkem_key = ?",
                 (bytes(1184),))
    conn.rollback()


def test_0006_suspends_squatters_and_gives_requesters_their_stanzas_back(
        conn: Connection, monkeypatch: pytest.MonkeyPatch) -> None:
    # A database from before 0006: a second volunteer on the first one's key,
    # a third on a requester's key, and the requester's stanza under the third.
    conn.execute(migrations.SCHEMA_VERSION_TABLE)
    for migration in migrations.available():
        if migration.version < 6:
            conn.executescript(migration.sql)
            conn.execute("INSERT INTO schema_version VALUES (?, '2026-01-01')",
                         (migration.version,))
    conn.commit()
    volunteer = ("INSERT INTO volunteers (id, public_id, handle, public_key, status,"
                 " created_on, last_active_on) VALUES (?, ?, ?, ?, 'vetted', '', '')")
    conn.execute(volunteer, (1, "p1", "owner", b"K" * 32))
    conn.execute(volunteer, (2, "p2", "squatter", b"K" * 32))
    conn.execute(volunteer, (3, "p3", "requester-squatter", b"R" * 32))
    conn.execute("INSERT INTO requesters (id, lookup_id, public_key, created_on)"
                 " VALUES (1, x'00', ?, '')", (b"R" * 32,))
    conn.execute("INSERT INTO requests (id, public_id, requester_id, urgency, region,"
                 " created_on, updated_on) VALUES (1, 'r1', 1, 'normal', 'x', '', '')")
    conn.execute("INSERT INTO request_readers VALUES (1, 'f-requester', 3, x'00')")
    conn.execute("INSERT INTO request_readers VALUES (1, 'f-owner', 1, x'00')")
    conn.commit()
    # Up to 0006 only: 0007 rewrites the audit log this test reads.
    everything = migrations.available()
    monkeypatch.setattr(migrations, "available", lambda: [m for m in everything if m.version <= 6])
    migrations.apply_pending(conn)
    statuses = dict(conn.execute("SELECT handle, status FROM volunteers").fetchall())
    assert statuses == {"owner": "vetted", "squatter": "suspended",
                        "requester-squatter": "suspended"}
    readers = dict(conn.execute("SELECT fingerprint, volunteer_id FROM request_readers"))
    assert readers == {"f-requester": None, "f-owner": 1}
    audit = [row[0] for row in conn.execute("SELECT object FROM audit_log ORDER BY id")]
    assert audit == ["volunteer squatter", "volunteer requester-squatter"]


def test_0007_rewrites_the_audit_log_and_drops_orphaned_stanzas(
    conn: Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    everything = migrations.available()
    before = [m for m in everything if m.version < 7]
    monkeypatch.setattr(migrations, "available", lambda: before)
    migrations.apply_pending(conn)
    conn.executescript("""
        INSERT INTO requesters (id, lookup_id, public_key, created_on)
            VALUES (1, x'01', x'02', '2026-01-01');
        INSERT INTO volunteers (id, public_id, handle, public_key, created_on, last_active_on)
            VALUES (5, 'pub-kept', 'kept-handle', x'03', '2026-01-01', '2026-01-01');
        INSERT INTO requests (id, public_id, requester_id, urgency, region, created_on,
                              updated_on)
            VALUES (9, 'RRRRRRRRRRRRRRRRRRRRRR', 1, 'normal', 'mena', '2026-01-01',
                    '2026-01-01');
        INSERT INTO request_readers VALUES (9, 'fp-requester', NULL, x'aa');
        INSERT INTO request_readers VALUES (9, 'fp-kept', 5, x'bb');
        INSERT INTO messages (id, public_id, request_id, from_requester, created_on)
            VALUES (1, 'm1', 9, 1, '2026-01-01');
        INSERT INTO message_readers VALUES (1, 'fp-requester', x'a1');
        INSERT INTO message_readers VALUES (1, 'fp-kept', x'b1');
        INSERT INTO message_readers VALUES (1, 'fp-deleted-volunteer', x'c1');
        INSERT INTO audit_log (day, actor, action, object) VALUES
            ('2026-01-01', 'kept-handle', 'applied', 'volunteer 5'),
            ('2026-01-01', 'gone-handle', 'claimed', 'request RRRRRRRRRRRRRRRRRRRRRR'),
            ('2026-01-01', 'kept-handle', 'referred',
             'request GONEGONEGONEGONEGONEGO to gone-handle'),
            ('2026-01-01', 'system', 'login held after repeated failures',
             'handle gone-handle'),
            ('2026-01-01', 'cli', 'added staff key', 'laptop');
    """)
    # Up to 0007 only: these stanzas are not real ones, which 0008 checks.
    monkeypatch.setattr(migrations, "available", lambda: [
        m for m in everything if m.version <= 7])
    assert [m.version for m in migrations.apply_pending(conn)] == [7]
    readers = {(r[0], r[1]) for r in conn.execute(
        "SELECT fingerprint, volunteer_id FROM message_readers")}
    assert readers == {("fp-requester", None), ("fp-kept", 5)}
    lines = [(line.actor, line.action, line.object)
             for line in reversed(staff.audit_lines(conn, 10, 0))]
    assert lines == [
        ("kept-handle", "applied", "volunteer kept-handle"),
        ("a deleted volunteer", "claimed", "request RRRRRRRRRRRRRRRRRRRRRR"),
        ("kept-handle", "referred", "a deleted request, a deleted volunteer"),
        ("system", "login held after repeated failures", "a deleted volunteer"),
        ("cli", "added staff key", "laptop"),
    ]
    raw = " ".join(str(tuple(r)) for r in conn.execute("SELECT * FROM audit_log"))
    assert "gone-handle" not in raw
    assert "GONEGONE" not in raw
    for statement in ("UPDATE audit_log SET action = 'x'", "DELETE FROM audit_log"):
        with pytest.raises(Exception, match="append-only"):
            conn.execute(statement)


def test_ended_migration_marks_the_readers_of_ended_requests(
        conn: Connection, monkeypatch: pytest.MonkeyPatch) -> None:
    everything = migrations.available()
    monkeypatch.setattr(migrations, "available", lambda: [m for m in everything
                                                          if m.version < 18])
    migrations.apply_pending(conn)
    conn.execute("INSERT INTO requesters (id, lookup_id, public_key, created_on)"
                 " VALUES (1, x'01', x'02', '2026-01-01')")
    for request_id, status in ((1, "open"), (2, "resolved"), (3, "closed")):
        conn.execute("INSERT INTO requests (id, public_id, requester_id, urgency, region,"
                     " created_on, updated_on, status) VALUES"
                     " (?, ?, 1, 'normal', 'unsaid', '2026-01-01', '2026-01-01', ?)",
                     (request_id, f"r{request_id}", status))
        conn.execute("INSERT INTO request_readers (request_id, fingerprint, stanza)"
                     " VALUES (?, 'f', x'01aa')", (request_id,))
    conn.commit()
    monkeypatch.setattr(migrations, "available", lambda: everything)
    assert 18 in [m.version for m in migrations.apply_pending(conn)]
    assert [tuple(r) for r in conn.execute(
        "SELECT request_id, ended FROM request_readers ORDER BY request_id")] == [
        (1, None), (2, "resolved"), (3, "closed")]
    names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
    assert {"request_readers_ended", "requests_priority_and_end"} <= names
    assert "requests_priority" not in names  # one trigger writes both now
    with pytest.raises(sqlcipher3.IntegrityError, match="CHECK constraint failed"):
        conn.execute("UPDATE request_readers SET ended = 'open'")
