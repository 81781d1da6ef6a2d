"""The requests SQL: counts in list queries, days only, cascades."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlcipher3

from onion_app.config import Config
from onion_app.store import Database
from onion_app.store import requests as rows
from onion_app.store.connection import Connection
from tests.journey import add_volunteer
from tests.statements import compilations


@pytest.fixture
def conn(initialised: Config) -> Iterator[Connection]:
    connection = Database(initialised).open()
    yield connection
    connection.close()


def _request(conn: Connection, requester_id: int, readers: list[rows.Reader] | None = None) -> int:
    return rows.create_request(
        conn, requester_id=requester_id, public_id=rows.new_public_id(), urgency="normal",
        region="unsaid", skills=["legal", "press"], languages=["fa"], body=b"sealed",
        readers=readers or [rows.Reader("a" * 32, None, b"\x01stanza")],
    )


def test_public_ids_are_random_and_url_safe() -> None:
    ids = {rows.new_public_id() for _ in range(1000)}
    assert len(ids) == 1000
    assert all(len(i) == 22 and all(c.isalnum() or c in "-_" for c in i) for i in ids)


def test_today_is_a_day() -> None:
    assert len(rows.today()) == 10


def test_listing_counts_readers_and_unread(conn: Connection) -> None:
    requester_id = rows.create_requester(conn, b"L" * 32, b"P" * 32)
    volunteer_id, _ = add_volunteer(conn, "lawyer", ["legal"], ["fa"])
    request_id = _request(conn, requester_id, [
        rows.Reader("a" * 32, None, b"\x01s1"), rows.Reader("b" * 32, volunteer_id, b"\x01s2")])
    rows.create_message(conn, request_id=request_id, public_id=rows.new_public_id(),
                        from_requester=False, author_volunteer_id=volunteer_id, body=b"x",
                        stanzas={"a" * 32: b"\x01s"})
    rows.create_message(conn, request_id=request_id, public_id=rows.new_public_id(),
                        from_requester=True, author_volunteer_id=None, body=b"y",
                        stanzas={"a" * 32: b"\x01s"})
    [listed] = rows.requests_of(conn, requester_id)
    assert listed.volunteer_readers == 1
    assert listed.unread == 1
    assert listed.skills == {"legal", "press"}
    rows.mark_seen_by_requester(conn, request_id)
    assert rows.requests_of(conn, requester_id)[0].unread == 0
    assert rows.requester_messages_today(conn, requester_id) == 1


def test_request_of_is_scoped_to_its_requester(conn: Connection) -> None:
    owner = rows.create_requester(conn, b"A" * 32, b"P" * 32)
    other = rows.create_requester(conn, b"B" * 32, b"Q" * 32)
    request_id = _request(conn, owner)
    public_id = conn.execute("SELECT public_id FROM requests WHERE id = ?",
                             (request_id,)).fetchone()[0]
    assert rows.request_of(conn, owner, public_id) is not None
    assert rows.request_of(conn, other, public_id) is None


def test_count_open_requests(conn: Connection) -> None:
    requester_id = rows.create_requester(conn, b"A" * 32, b"P" * 32)
    first = _request(conn, requester_id)
    _request(conn, requester_id)
    assert rows.count_open_requests(conn, requester_id) == 2
    rows.set_status(conn, first, "closed")
    assert rows.count_open_requests(conn, requester_id) == 1


def test_deleting_a_requester_cascades(conn: Connection) -> None:
    requester_id = rows.create_requester(conn, b"A" * 32, b"P" * 32)
    request_id = _request(conn, requester_id)
    rows.create_message(conn, request_id=request_id, public_id=rows.new_public_id(),
                        from_requester=True, author_volunteer_id=None, body=b"y",
                        stanzas={"a" * 32: b"\x01s"})
    rows.delete_requester(conn, requester_id)
    for table in ("requests", "request_bodies", "request_readers", "request_skills",
                  "request_languages", "messages", "message_bodies", "message_readers"):
        assert conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0] == 0, table  # noqa: S608


def test_list_queries_use_indexes(conn: Connection) -> None:
    plan = " ".join(str(tuple(r)) for r in conn.execute(
        "EXPLAIN QUERY PLAN SELECT id FROM requests WHERE requester_id = ? ORDER BY id DESC",
        (1,)))
    assert "requests_by_requester" in plan


def test_a_stanza_is_replaced_only_by_a_newer_format(conn: Connection) -> None:
    request_id = _request(conn, rows.create_requester(conn, b"U" * 32, b"P" * 32))
    v1, v2, other_v1 = b"\x01first", b"\x02hybrid", b"\x01second"
    rows.add_request_readers(conn, request_id, [rows.Reader("c" * 32, None, v1)])
    rows.add_request_readers(conn, request_id, [rows.Reader("c" * 32, None, other_v1)])
    assert rows.request_stanza(conn, request_id, "c" * 32) == v1
    rows.add_request_readers(conn, request_id, [rows.Reader("c" * 32, None, v2)])
    assert rows.request_stanza(conn, request_id, "c" * 32) == v2
    rows.add_request_readers(conn, request_id, [rows.Reader("c" * 32, None, v1)])
    assert rows.request_stanza(conn, request_id, "c" * 32) == v2
    assert rows.v1_fingerprints(conn, request_id) == {"a" * 32}


def test_a_replaced_message_stanza_keeps_its_volunteer(conn: Connection) -> None:
    requester_id = rows.create_requester(conn, b"W" * 32, b"P" * 32)
    volunteer_id, _ = add_volunteer(conn, "keeper", ["legal"], ["fa"])
    request_id = _request(conn, requester_id, [rows.Reader("a" * 32, None, b"\x01r"),
                                                rows.Reader("v" * 32, volunteer_id, b"\x01v")])
    message_id = rows.create_message(
        conn, request_id=request_id, public_id=rows.new_public_id(), from_requester=True,
        author_volunteer_id=None, body=b"m", stanzas={"a" * 32: b"\x01a", "v" * 32: b"\x01b"})
    rows.add_message_readers(conn, message_id, {"v" * 32: b"\x02hybrid"})
    found = dict(conn.execute("SELECT fingerprint, volunteer_id FROM message_readers"))
    assert found == {"a" * 32: None, "v" * 32: volunteer_id}
    assert conn.execute("SELECT stanza_format FROM message_readers WHERE fingerprint = ?",
                        ("v" * 32,)).fetchone()[0] == 2


@pytest.mark.parametrize("stanza", [b"\x03three", b"stanza", b"\x00"])
def test_the_format_column_must_match_the_stanza(conn: Connection, stanza: bytes) -> None:
    request_id = _request(conn, rows.create_requester(conn, b"F" * 32, b"P" * 32))
    with pytest.raises(sqlcipher3.IntegrityError, match="CHECK constraint failed"):
        rows.add_request_readers(conn, request_id, [rows.Reader("d" * 32, None, stanza)])
    with pytest.raises(sqlcipher3.IntegrityError, match="CHECK constraint failed"):
        conn.execute("UPDATE request_readers SET stanza_format = 2 WHERE request_id = ?",
                     (request_id,))


def test_a_thread_is_read_a_page_at_a_time(conn: Connection) -> None:
    requester_id = rows.create_requester(conn, b"L" * 32, b"P" * 32)
    request_id = _request(conn, requester_id)
    for n in range(7):
        rows.create_message(conn, request_id=request_id, public_id=rows.new_public_id(),
                            from_requester=True, author_volunteer_id=None,
                            body=bytes([n]), stanzas={"a" * 32: b"\x01s"})
    assert rows.message_count(conn, request_id) == 7
    every = rows.thread_of(conn, request_id, "a" * 32)
    assert [m.body for m in every] == [bytes([n]) for n in range(7)]
    page = rows.thread_of(conn, request_id, "a" * 32, offset=5, limit=3)
    assert [m.body for m in page] == [bytes([5]), bytes([6])]


def test_a_reader_row_is_written_with_its_priority_and_day(conn: Connection) -> None:
    """One INSERT sets what two triggers used to (migration 0016): the
    dashboard priority of an open request by urgency, 0 once it is no longer
    open, and the day a volunteer (never the requester) became a reader."""
    requester_id = rows.create_requester(conn, b"L" * 32, b"K" * 32)
    volunteer_id, _ = add_volunteer(conn, "lawyer", ["legal"], ["fa"])
    found = {}
    for urgency in ("normal", "urgent", "critical"):
        request_id = rows.create_request(
            conn, requester_id=requester_id, public_id=rows.new_public_id(), urgency=urgency,
            region="unsaid", skills=["legal"], languages=["fa"], body=b"sealed",
            readers=[rows.Reader(f"requester-{urgency}", None, b"\x01stanza"),
                     rows.Reader(f"lawyer-{urgency}", volunteer_id, b"\x01stanza")])
        found[urgency] = request_id
    assert dict(conn.execute("SELECT fingerprint, priority FROM request_readers").fetchall()) == {
        "requester-normal": 0, "lawyer-normal": 0, "requester-urgent": 1, "lawyer-urgent": 1,
        "requester-critical": 2, "lawyer-critical": 2}
    assert dict(conn.execute("SELECT fingerprint, added_on FROM request_readers"
                             " WHERE fingerprint LIKE '%-critical'").fetchall()) == {
        "requester-critical": None, "lawyer-critical": rows.today()}
    rows.set_status(conn, found["critical"], "resolved")
    rows.add_request_readers(conn, found["critical"], [rows.Reader("late", volunteer_id,
                                                                   b"\x01stanza")])
    assert conn.execute("SELECT group_concat(DISTINCT priority) FROM request_readers"
                        " WHERE request_id = ?", (found["critical"],)).fetchone()[0] == "0"


def test_sealed_requests_give_each_readers_stanza_with_its_body(conn: Connection) -> None:
    requester_id = rows.create_requester(conn, b"S" * 32, b"P" * 32)
    first, second = _request(conn, requester_id), _request(conn, requester_id)
    rows.add_request_readers(conn, first, [rows.Reader("d" * 32, None, b"\x02mine")])
    body = rows.request_body(conn, first)
    assert rows.sealed_requests(conn, [(first, "d" * 32), (second, "a" * 32)]) == {
        first: (b"\x02mine", body), second: (b"\x01stanza", rows.request_body(conn, second))}
    # No fingerprint: the body alone (its reader holds the content key).
    assert rows.sealed_requests(conn, [(first, None)]) == {first: (None, body)}
    # Not a reader of it: no stanza, and never another reader's.
    assert rows.sealed_requests(conn, [(first, "e" * 32)]) == {first: (None, body)}
    assert rows.sealed_requests(conn, [(second, "d" * 32)])[second][0] is None
    assert rows.sealed_requests(conn, [(second + 1, "d" * 32)]) == {}
    assert rows.sealed_requests(conn, []) == {}


@pytest.mark.parametrize("page", [(0, 10), (10, 10), (0, -1)])
def test_paged_queries_are_compiled_once(conn: Connection, page: tuple[int, int]) -> None:
    """A bare ``LIMIT ?`` makes SQLite compile the statement again at every new
    binding, which the memory wiping made cost more than the query itself."""
    requester_id = rows.create_requester(conn, b"C" * 32, b"P" * 32)
    request_id = _request(conn, requester_id)
    offset, limit = page
    rows.requests_of(conn, requester_id, offset=offset, limit=limit)
    assert compilations(conn, lambda: rows.requests_of(
        conn, requester_id, offset=offset, limit=limit)) == 0
    assert compilations(conn, lambda: rows.thread_of(
        conn, request_id, "a" * 32, offset=offset, limit=None if limit < 0 else limit)) == 0
    # The check itself sees a compilation when there is one.
    assert compilations(conn, lambda: conn.execute(
        "SELECT id FROM requests WHERE requester_id = ? LIMIT ?", (requester_id, 5)
    ).fetchall()) > 0
