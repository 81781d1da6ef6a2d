from __future__ import annotations

from collections.abc import Iterator

import pytest

from onion_app.config import Config
from onion_app.store import Database, caseload
from onion_app.store import requests as rows
from onion_app.store.connection import Connection
from tests.journey import add_volunteer


@pytest.fixture
def conn(initialised: Config) -> Iterator[Connection]:
    connection = Database(initialised).open()
    yield connection
    connection.close()


def _requests(conn: Connection, volunteer_id: int, count: int,
              skills: tuple[str, ...] = ("legal",)) -> list[int]:
    requester_id = rows.create_requester(conn, rows.new_public_id().encode(), b"P" * 32)
    return [rows.create_request(
        conn, requester_id=requester_id, public_id=rows.new_public_id(), urgency="normal",
        region="unsaid", skills=skills, languages=["fa"], body=b"b%d" % i,
        readers=[rows.Reader("f" * 32, volunteer_id, b"\x01s%d" % i)]) for i in range(count)]


def test_dashboard_pages_newest_first(conn: Connection) -> None:
    volunteer_id, _ = add_volunteer(conn, "v", ["legal"], ["fa"])
    ids = _requests(conn, volunteer_id, caseload.PAGE_SIZE + 3)
    first, total = caseload.dashboard(conn, volunteer_id, caseload.Filters())
    assert total == caseload.PAGE_SIZE + 3
    assert [r.id for r in first] == sorted(ids, reverse=True)[:caseload.PAGE_SIZE]
    second, _ = caseload.dashboard(conn, volunteer_id, caseload.Filters(page=2))
    assert len(second) == 3


def test_filters(conn: Connection) -> None:
    volunteer_id, _ = add_volunteer(conn, "v", ["legal", "art"], ["fa"])
    legal = _requests(conn, volunteer_id, 2)
    art = _requests(conn, volunteer_id, 1, skills=("art",))
    caseload.claim(conn, legal[0], volunteer_id)
    rows.set_status(conn, art[0], "closed")

    def ids(**filters: object) -> set[int]:
        found, _ = caseload.dashboard(conn, volunteer_id, caseload.Filters(**filters))  # type: ignore[arg-type]
        return {int(r.id) for r in found}

    assert ids(skill="art") == set(art)
    assert ids(status="mine") == {legal[0]}
    assert ids(status="unclaimed") == {legal[1]}
    assert ids(status="closed") == set(art)


def test_sealed_for_fetches_a_page_in_one_query(conn: Connection) -> None:
    volunteer_id, _ = add_volunteer(conn, "v", ["legal"], ["fa"])
    ids = _requests(conn, volunteer_id, 3)
    sealed = caseload.sealed_for(conn, volunteer_id, ids)
    assert set(sealed) == set(ids)
    assert sealed[ids[0]] == (b"b0", b"\x01s0")
    assert caseload.sealed_for(conn, volunteer_id, []) == {}


def test_claim_release_resolve(conn: Connection) -> None:
    one, _ = add_volunteer(conn, "one", ["legal"], ["fa"])
    two, _ = add_volunteer(conn, "two", ["legal"], ["fa"])
    [request_id] = _requests(conn, one, 1)
    assert caseload.claim(conn, request_id, one)
    assert not caseload.claim(conn, request_id, two)
    assert not caseload.release(conn, request_id, two)
    assert caseload.release(conn, request_id, one)
    caseload.resolve(conn, request_id)
    assert not caseload.claim(conn, request_id, two)


def test_unread_counts_what_others_wrote_since_last_seen(conn: Connection) -> None:
    volunteer_id, _ = add_volunteer(conn, "v", ["legal"], ["fa"])
    [request_id] = _requests(conn, volunteer_id, 1)

    def post(author: int | None) -> None:
        rows.create_message(conn, request_id=request_id, public_id=rows.new_public_id(),
                            from_requester=author is None, author_volunteer_id=author,
                            body=b"x", stanzas={})

    def unread() -> int:
        found, _ = caseload.dashboard(conn, volunteer_id, caseload.Filters())
        return int(found[0].unread)

    post(None)
    post(volunteer_id)  # their own message is never unread
    assert unread() == 1
    caseload.mark_seen(conn, volunteer_id, request_id)
    assert unread() == 0
    post(None)
    assert unread() == 1


def test_dashboard_uses_the_reader_index(conn: Connection) -> None:
    plan = " ".join(str(tuple(r)) for r in conn.execute(
        "EXPLAIN QUERY PLAN SELECT r.id FROM request_readers rr JOIN requests r"
        " ON r.id = rr.request_id WHERE rr.volunteer_id = ? ORDER BY rr.request_id DESC", (1,)))
    assert "request_readers_by_volunteer" in plan
    assert "TEMP B-TREE" not in plan  # no sort step: the index gives the order


def _one(conn: Connection, volunteer_id: int, urgency: str) -> int:
    requester_id = rows.create_requester(conn, rows.new_public_id().encode(), b"P" * 32)
    return rows.create_request(
        conn, requester_id=requester_id, public_id=rows.new_public_id(), urgency=urgency,
        region="unsaid", skills=["legal"], languages=["fa"], body=b"b",
        readers=[rows.Reader("f" * 32, volunteer_id, b"\x01s")])


def test_dashboard_urgent_first_then_newest(conn: Connection) -> None:
    volunteer_id, _ = add_volunteer(conn, "v", ["legal"], ["fa"])
    normal_old = _one(conn, volunteer_id, "normal")
    urgent = _one(conn, volunteer_id, "urgent")
    critical = _one(conn, volunteer_id, "critical")
    normal_new = _one(conn, volunteer_id, "normal")
    urgent_new = _one(conn, volunteer_id, "urgent")
    found, total = caseload.dashboard(conn, volunteer_id, caseload.Filters())
    assert [r.id for r in found] == [critical, urgent_new, urgent, normal_new, normal_old]
    assert total == 5
    # Resolved, an urgent request no longer jumps the queue; reopened, it does again.
    caseload.resolve(conn, critical)
    found, _ = caseload.dashboard(conn, volunteer_id, caseload.Filters())
    assert [r.id for r in found] == [urgent_new, urgent, normal_new, critical, normal_old]
    rows.set_status(conn, critical, "open")
    found, _ = caseload.dashboard(conn, volunteer_id, caseload.Filters())
    assert found[0].id == critical


def test_unfiltered_count_is_every_request_the_volunteer_reads(conn: Connection) -> None:
    volunteer_id, _ = add_volunteer(conn, "v", ["legal"], ["fa"])
    other_id, _ = add_volunteer(conn, "w", ["legal"], ["fa"])
    _requests(conn, volunteer_id, 4)
    _requests(conn, other_id, 2)
    closed = _one(conn, volunteer_id, "urgent")
    rows.set_status(conn, closed, "closed")
    assert caseload.dashboard(conn, volunteer_id, caseload.Filters())[1] == 5
    assert caseload.dashboard(conn, volunteer_id, caseload.Filters(status="open"))[1] == 4
    assert caseload.dashboard(conn, other_id, caseload.Filters())[1] == 2


def test_dashboard_reads_display_order_from_one_index(conn: Connection) -> None:
    # The plan, not a timing: no sort step, whatever the volunteer reads.
    plan = " ".join(str(tuple(step)) for step in conn.execute(
        "EXPLAIN QUERY PLAN SELECT r.id FROM request_readers rr"
        " JOIN requests r ON r.id = rr.request_id WHERE rr.volunteer_id = 1"
        " ORDER BY rr.priority DESC, rr.request_id DESC LIMIT 25"))
    assert "request_readers_dashboard" in plan
    assert "TEMP B-TREE" not in plan
