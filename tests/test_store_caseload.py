from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from onion_app.config import Config
from onion_app.store import Database, caseload
from onion_app.store import requests as rows
from onion_app.store.connection import Connection
from tests.journey import add_volunteer
from tests.statements import compilations


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
    first = caseload.dashboard(conn, volunteer_id, caseload.Filters())
    assert first.total == caseload.PAGE_SIZE + 3
    assert not first.more
    assert [r.id for r in first.rows] == sorted(ids, reverse=True)[:caseload.PAGE_SIZE]
    assert first.newer is None
    assert first.older is not None
    second = caseload.dashboard(conn, volunteer_id, caseload.Filters(after=first.older))
    assert [r.id for r in second.rows] == sorted(ids, reverse=True)[caseload.PAGE_SIZE:]
    assert second.older is None
    assert second.newer is not None


def test_filters(conn: Connection) -> None:
    volunteer_id, _ = add_volunteer(conn, "v", ["legal", "art"], ["fa"])
    legal = _requests(conn, volunteer_id, 2)
    art = _requests(conn, volunteer_id, 1, skills=("art",))
    caseload.claim(conn, legal[0], volunteer_id)
    rows.set_status(conn, art[0], "closed")

    def ids(**filters: object) -> set[int]:
        found = caseload.dashboard(conn, volunteer_id, caseload.Filters(**filters))  # type: ignore[arg-type]
        return {int(r.id) for r in found.rows}

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
        found = caseload.dashboard(conn, volunteer_id, caseload.Filters()).rows
        return int(found[0].unread)

    post(None)
    post(volunteer_id)  # their own message is never unread
    assert unread() == 1
    caseload.mark_seen(conn, volunteer_id, request_id)
    assert unread() == 0
    post(None)
    assert unread() == 1


def test_dashboard_queries_are_compiled_once(conn: Connection) -> None:
    volunteer_id, _ = add_volunteer(conn, "v", ["legal"], ["fa"])
    _requests(conn, volunteer_id, 3)
    anchor = caseload.dashboard(conn, volunteer_id, caseload.Filters()).rows[0]
    assert compilations(conn, lambda: [
        caseload.dashboard(conn, volunteer_id, filters) for filters in (
            caseload.Filters(), caseload.Filters(skill="legal"), caseload.Filters(status="open"),
            caseload.Filters(status="mine"), caseload.Filters(oldest=True),
            caseload.Filters(after=caseload.Anchor(0, anchor.public_id)))]) == 0


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
    page = caseload.dashboard(conn, volunteer_id, caseload.Filters())
    assert [r.id for r in page.rows] == [critical, urgent_new, urgent, normal_new, normal_old]
    assert page.total == 5
    # Resolved, an urgent request no longer jumps the queue; reopened, it does again.
    caseload.resolve(conn, critical)
    found = caseload.dashboard(conn, volunteer_id, caseload.Filters()).rows
    assert [r.id for r in found] == [urgent_new, urgent, normal_new, critical, normal_old]
    rows.set_status(conn, critical, "open")
    found = caseload.dashboard(conn, volunteer_id, caseload.Filters()).rows
    assert found[0].id == critical


def test_unfiltered_count_is_every_request_the_volunteer_reads(conn: Connection) -> None:
    volunteer_id, _ = add_volunteer(conn, "v", ["legal"], ["fa"])
    other_id, _ = add_volunteer(conn, "w", ["legal"], ["fa"])
    _requests(conn, volunteer_id, 4)
    _requests(conn, other_id, 2)
    closed = _one(conn, volunteer_id, "urgent")
    rows.set_status(conn, closed, "closed")
    assert caseload.dashboard(conn, volunteer_id, caseload.Filters()).total == 5
    assert caseload.dashboard(conn, volunteer_id, caseload.Filters(status="open")).total == 4
    assert caseload.dashboard(conn, other_id, caseload.Filters()).total == 2


def test_dashboard_reads_display_order_from_one_index(conn: Connection) -> None:
    # The plan, not a timing: no sort step, whatever the volunteer reads.
    plan = " ".join(str(tuple(step)) for step in conn.execute(
        "EXPLAIN QUERY PLAN SELECT r.id FROM request_readers rr"
        " JOIN requests r ON r.id = rr.request_id WHERE rr.volunteer_id = 1"
        " ORDER BY rr.priority DESC, rr.request_id DESC LIMIT 25"))
    assert "request_readers_dashboard" in plan
    assert "TEMP B-TREE" not in plan


def _mixed(conn: Connection, volunteer_id: int, count: int) -> dict[int, tuple[int, str]]:
    """``count`` requests read by the volunteer, all made today (ties in the
    day), in a few urgencies (ties in priority) and skills: id -> (priority, skill)."""
    requester_id = rows.create_requester(conn, rows.new_public_id().encode(), b"P" * 32)
    urgencies = [("normal", 0), ("urgent", 1), ("normal", 0), ("critical", 2), ("normal", 0)]
    made = {}
    for number in range(count):
        urgency, priority = urgencies[number * 7 % len(urgencies)]
        skill = ("legal", "art", "press")[number % 3]
        request_id = rows.create_request(
            conn, requester_id=requester_id, public_id=rows.new_public_id(), urgency=urgency,
            region="unsaid", skills=[skill], languages=["fa"], body=b"b",
            readers=[rows.Reader("f" * 32, volunteer_id, b"\x01s")])
        made[request_id] = (priority, skill)
    return made


def _display_order(made: dict[int, tuple[int, str]], skill: str | None = None) -> list[int]:
    return sorted((i for i, (_, s) in made.items() if skill in (None, s)),
                  key=lambda i: (-made[i][0], -i))


def _walk_older(conn: Connection, volunteer_id: int, **filters: str) -> list[int]:
    page = caseload.dashboard(conn, volunteer_id, caseload.Filters(**filters))  # type: ignore[arg-type]
    seen = [r.id for r in page.rows]
    while page.older is not None:
        page = caseload.dashboard(conn, volunteer_id, caseload.Filters(
            after=page.older, **filters))  # type: ignore[arg-type]
        assert page.newer is not None
        seen.extend(r.id for r in page.rows)
    return seen


def _walk_newer(conn: Connection, volunteer_id: int, **filters: str) -> list[int]:
    page = caseload.dashboard(conn, volunteer_id, caseload.Filters(oldest=True, **filters))  # type: ignore[arg-type]
    assert page.older is None
    pages = [[r.id for r in page.rows]]
    while page.newer is not None:
        page = caseload.dashboard(conn, volunteer_id, caseload.Filters(
            before=page.newer, **filters))  # type: ignore[arg-type]
        pages.append([r.id for r in page.rows])
    # The walk back ends on the newest page, which may overlap the one after
    # it (the oldest page is the last 20, not the remainder).
    assert pages[-1] == _walk_older(conn, volunteer_id, **filters)[:caseload.PAGE_SIZE]
    return [i for page_ids in reversed(pages) for i in page_ids]


@pytest.mark.parametrize("filters", [{}, {"skill": "art"}, {"status": "open"},
                                     {"skill": "legal", "status": "open"}, {"status": "mine"},
                                     {"skill": "press", "status": "mine"},
                                     {"status": "resolved"}, {"status": "closed"},
                                     {"skill": "art", "status": "closed"}])
def test_keyset_pages_show_every_row_once_in_order(conn: Connection,
                                                   filters: dict[str, str]) -> None:
    volunteer_id, _ = add_volunteer(conn, "v", ["legal"], ["fa"])
    other_id, _ = add_volunteer(conn, "w", ["legal"], ["fa"])
    made = _mixed(conn, volunteer_id, caseload.PAGE_SIZE * 3 + 7)
    theirs = _mixed(conn, other_id, 5)  # someone else's never show
    expected = _display_order(made, filters.get("skill"))
    # Every other request is the volunteer's to help with (and one of the
    # other volunteer's, which they do not read).
    for request_id in [*expected[::2], next(iter(theirs))]:
        assert caseload.claim(conn, request_id, volunteer_id)
    if filters.get("status") == "mine":
        expected = expected[::2]
    if filters.get("status") in caseload.ENDED:
        ended = expected[::3]
        for request_id in ended:
            rows.set_status(conn, request_id, filters["status"])
        expected = sorted(ended, reverse=True)  # priority 0 once ended: newest first
    assert _walk_older(conn, volunteer_id, **filters) == expected
    walked_back = _walk_newer(conn, volunteer_id, **filters)
    assert sorted(set(walked_back)) == sorted(expected)
    assert [i for i in expected if i in walked_back] == expected


def test_a_page_continues_where_its_anchor_was_when_the_anchor_moves(conn: Connection) -> None:
    volunteer_id, _ = add_volunteer(conn, "v", ["legal"], ["fa"])
    made = _mixed(conn, volunteer_id, caseload.PAGE_SIZE * 2)
    expected = _display_order(made)
    first = caseload.dashboard(conn, volunteer_id, caseload.Filters())
    assert first.older is not None
    # The anchor (urgent, so it leaves the queue's head when resolved)
    # keeps the priority the link was made with.
    anchor = next(i for i in expected[:caseload.PAGE_SIZE] if made[i][0] > 0)
    anchored = caseload.Anchor(made[anchor][0], next(
        r.public_id for r in first.rows if r.id == anchor))
    caseload.resolve(conn, anchor)
    after = caseload.dashboard(conn, volunteer_id, caseload.Filters(after=anchored))
    # What followed it still follows (the anchor itself now among the normal ones).
    made[anchor] = (0, made[anchor][1])
    then = (anchored.priority, anchor)
    following = [i for i in _display_order(made) if (made[i][0], i) < then]
    assert [r.id for r in after.rows] == following[:caseload.PAGE_SIZE]
    assert anchor in following


def test_an_anchor_of_someone_else_shows_the_newest_page(conn: Connection) -> None:
    volunteer_id, _ = add_volunteer(conn, "v", ["legal"], ["fa"])
    other_id, _ = add_volunteer(conn, "w", ["legal"], ["fa"])
    mine = _display_order(_mixed(conn, volunteer_id, caseload.PAGE_SIZE + 5))
    _mixed(conn, other_id, 1)
    theirs = caseload.dashboard(conn, other_id, caseload.Filters())
    anchor = caseload.Anchor.of(theirs.rows[0])
    for filters in (caseload.Filters(after=anchor), caseload.Filters(before=anchor)):
        page = caseload.dashboard(conn, volunteer_id, filters)
        assert [r.id for r in page.rows] == mine[:caseload.PAGE_SIZE]
        assert page.newer is None


@pytest.mark.parametrize("text", ["2.abc_-DEF", "0.x"])
def test_anchors_read_back(text: str) -> None:
    anchor = caseload.Anchor.parse(text)
    assert anchor is not None
    assert str(anchor) == text


@pytest.mark.parametrize("text", [None, "", "3.abc", "1", "1.", "x.abc", "1.a/b", "1." + "a" * 65,
                                  "1.abc\n"])
def test_other_anchors_are_none(text: str | None) -> None:
    assert caseload.Anchor.parse(text) is None


def test_the_count_stops_past_the_limit(conn: Connection,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(caseload, "COUNT_LIMIT", 4)
    volunteer_id, _ = add_volunteer(conn, "v", ["legal"], ["fa"])
    made = _mixed(conn, volunteer_id, 9)  # 3 of each skill
    page = caseload.dashboard(conn, volunteer_id, caseload.Filters())
    assert (page.total, page.more) == (5, True)
    art = caseload.dashboard(conn, volunteer_id, caseload.Filters(skill="art"))
    assert (art.total, art.more) == (3, False)
    assert len(art.rows) == 3
    open_count = sum(1 for _ in made)  # all open
    assert caseload.count(conn, volunteer_id, caseload.Filters(status="open")) == min(
        open_count, 5)
    assert caseload.count(conn, volunteer_id, caseload.Filters(status="closed")) == 0


def _reader_skills(conn: Connection) -> set[tuple[int, str, int, int]]:
    return {tuple(r) for r in conn.execute(  # type: ignore[misc]
        "SELECT volunteer_id, skill, priority, request_id FROM reader_skills")}


def _derived(conn: Connection) -> set[tuple[int, str, int, int]]:
    return {tuple(r) for r in conn.execute(  # type: ignore[misc]
        "SELECT rr.volunteer_id, s.skill, rr.priority, rr.request_id FROM request_readers rr"
        " JOIN request_skills s ON s.request_id = rr.request_id"
        " WHERE rr.volunteer_id IS NOT NULL")}


def test_the_skill_index_follows_readers_priorities_and_deletions(conn: Connection) -> None:
    one, _ = add_volunteer(conn, "one", ["legal"], ["fa"])
    two, _ = add_volunteer(conn, "two", ["legal"], ["fa"])
    requester_id = rows.create_requester(conn, b"L" * 32, b"P" * 32)
    made = [rows.create_request(
        conn, requester_id=requester_id, public_id=rows.new_public_id(), urgency=urgency,
        region="unsaid", skills=["legal", "art"], languages=["fa"], body=b"b",
        readers=[rows.Reader("f" * 32, one, b"\x01s"), rows.Reader("g" * 32, None, b"\x01r")])
        for urgency in ("normal", "urgent", "critical")]
    rows.add_request_readers(conn, made[1], [rows.Reader("h" * 32, two, b"\x01t")])
    assert len(_reader_skills(conn)) == 8  # 4 volunteer readers, 2 skills each
    assert _reader_skills(conn) == _derived(conn)
    caseload.resolve(conn, made[2])
    rows.set_status(conn, made[1], "closed")
    assert (one, "art", 0, made[2]) in _reader_skills(conn)
    assert _reader_skills(conn) == _derived(conn)
    rows.set_status(conn, made[1], "open")
    assert (two, "legal", 1, made[1]) in _reader_skills(conn)
    assert _reader_skills(conn) == _derived(conn)
    conn.execute("DELETE FROM volunteers WHERE id = ?", (two,))
    assert _reader_skills(conn) == _derived(conn)
    rows.delete_requester(conn, requester_id)
    assert _reader_skills(conn) == set() == _derived(conn)


def test_mine_starts_from_the_claimed_requests(conn: Connection) -> None:
    # Whatever page: the few claimed requests are found on requests' index,
    # and each one's reader row by (volunteer, request), never by a walk.
    for filters in (caseload.Filters(status="mine"),
                    caseload.Filters(status="mine", skill="legal")):
        query = caseload._query(1, filters)
        for extra in ("", query.keyset("<"), query.keyset(">")):
            plan = [str(tuple(step)) for step in conn.execute(
                f"EXPLAIN QUERY PLAN SELECT r.id {query.sql(extra)}"
                " ORDER BY rr.priority DESC, rr.request_id DESC LIMIT 21",
                [*query.params, *([1, 1] if extra else [])])]
            assert "SEARCH r USING" in plan[0]
            assert "claimed_by=?" in plan[0]
            assert any("(volunteer_id=? AND request_id=?)" in step for step in plan)


def test_the_skill_filter_and_the_keyset_seek_their_index(conn: Connection) -> None:
    # The plan, not a timing: every page, filtered or not, first or last,
    # starts with a seek in display order, with no sort step.
    for filters in (caseload.Filters(), caseload.Filters(skill="legal"),
                    caseload.Filters(status="resolved"), caseload.Filters(status="closed")):
        query = caseload._query(1, filters)
        for compare, order in (("<", "DESC"), (">", "ASC")):
            keyset = query.keyset(compare)
            plan = " ".join(str(tuple(step)) for step in conn.execute(
                f"EXPLAIN QUERY PLAN SELECT r.id {query.sql(keyset)}"
                f" ORDER BY {query.key}.priority {order}, {query.key}.request_id {order} LIMIT 21",
                [*query.params, 1, 1]))
            assert "(priority,request_id)" in plan
            assert "TEMP B-TREE" not in plan


def _steps(conn: Connection, work: Callable[[], object]) -> int:
    """How many steps of SQLite's machine ``work`` takes."""
    steps = 0

    def step() -> int:
        nonlocal steps
        steps += 1
        return 0

    conn.set_progress_handler(step, 1)
    try:
        work()
    finally:
        conn.set_progress_handler(None, 0)
    return steps


def test_ended_filters_read_the_ended_rows_only(conn: Connection) -> None:
    volunteer_id, _ = add_volunteer(conn, "v", ["legal"], ["fa"])
    ended = _requests(conn, volunteer_id, 5)
    for request_id in ended[:2]:
        caseload.resolve(conn, request_id)
    for request_id in ended[2:]:
        rows.set_status(conn, request_id, "closed")
    _requests(conn, volunteer_id, 20)

    def pages() -> list[list[int]]:
        return [[r.id for r in caseload.dashboard(
            conn, volunteer_id, caseload.Filters(status=status)).rows]
            for status in ("resolved", "closed")]

    assert pages() == [ended[1::-1], ended[:1:-1]]  # newest first
    assert [caseload.count(conn, volunteer_id, caseload.Filters(status=status))
            for status in ("resolved", "closed")] == [2, 3]
    few = _steps(conn, pages)
    open_before = _steps(conn, lambda: caseload.dashboard(
        conn, volunteer_id, caseload.Filters(status="open")))
    _requests(conn, volunteer_id, 400)
    assert pages() == [ended[1::-1], ended[:1:-1]]
    # Four hundred more open requests: the ended filters do what they did...
    assert _steps(conn, pages) == few
    # ...where a filter that reads each row's request reads them all.
    assert _steps(conn, lambda: caseload.dashboard(
        conn, volunteer_id, caseload.Filters(status="open"))) > 2 * open_before + 1


def _ends(conn: Connection, request_id: int) -> set[str | None]:
    return {r[0] for r in conn.execute(
        "SELECT ended FROM request_readers WHERE request_id = ?", (request_id,))}


def test_reader_rows_follow_how_their_request_ended(conn: Connection) -> None:
    one, _ = add_volunteer(conn, "one", ["legal"], ["fa"])
    two, _ = add_volunteer(conn, "two", ["legal"], ["fa"])
    [request_id] = _requests(conn, one, 1)
    assert _ends(conn, request_id) == {None}
    caseload.resolve(conn, request_id)
    assert _ends(conn, request_id) == {"resolved"}
    rows.set_status(conn, request_id, "closed")
    assert _ends(conn, request_id) == {"closed"}
    # A reader added to an ended request is written ended.
    rows.add_request_readers(conn, request_id, [rows.Reader("g" * 32, two, b"\x01t")])
    assert _ends(conn, request_id) == {"closed"}
    assert [r.id for r in caseload.dashboard(
        conn, two, caseload.Filters(status="closed")).rows] == [request_id]
    rows.set_status(conn, request_id, "open")
    assert _ends(conn, request_id) == {None}
    assert caseload.dashboard(conn, two, caseload.Filters(status="closed")).rows == []


def test_an_urgent_request_ending_and_reopened_keeps_priority_and_end_together(
        conn: Connection) -> None:
    volunteer_id, _ = add_volunteer(conn, "v", ["legal"], ["fa"])
    requester_id = rows.create_requester(conn, b"U" * 32, b"P" * 32)
    request_id = rows.create_request(
        conn, requester_id=requester_id, public_id=rows.new_public_id(), urgency="critical",
        region="unsaid", skills=["legal"], languages=["fa"], body=b"b",
        readers=[rows.Reader("f" * 32, volunteer_id, b"\x01s")])

    def reader() -> tuple[int, str | None]:
        found = conn.execute("SELECT priority, ended FROM request_readers WHERE request_id = ?",
                             (request_id,)).fetchone()
        return int(found[0]), found[1]

    assert reader() == (2, None)
    rows.set_status(conn, request_id, "closed")
    assert reader() == (0, "closed")
    rows.set_status(conn, request_id, "open")
    assert reader() == (2, None)
    conn.execute("UPDATE requests SET urgency = 'urgent' WHERE id = ?", (request_id,))
    assert reader() == (1, None)
