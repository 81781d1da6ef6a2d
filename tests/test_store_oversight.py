from __future__ import annotations

import dataclasses
import datetime
from collections.abc import Iterator

import pytest

from onion_app.config import Config
from onion_app.store import Database, oversight
from onion_app.store import requests as rows
from onion_app.store.connection import Connection
from tests.journey import add_volunteer
from tests.statements import compilations


@pytest.fixture
def conn(initialised: Config) -> Iterator[Connection]:
    connection = Database(initialised).open()
    yield connection
    connection.close()


def _request(conn: Connection, requester_id: int, skills: tuple[str, ...] = ("legal",)) -> int:
    return rows.create_request(
        conn, requester_id=requester_id, public_id=rows.new_public_id(), urgency="normal",
        region="unsaid", skills=skills, languages=["fa"], body=b"SEALED",
        readers=[rows.Reader("f" * 32, None, b"\x01s")])


def test_metadata_listing_holds_no_ciphertext(conn: Connection) -> None:
    requester_id = rows.create_requester(conn, b"L" * 32, b"P" * 32)
    _request(conn, requester_id)
    listing, total = oversight.requests_metadata(conn, flagged_only=False, page=1)
    assert total == 1
    values = [v for row in listing for v in dataclasses.astuple(row)]
    assert b"SEALED" not in values
    assert all(not isinstance(v, bytes) for v in values)


def test_metadata_listing_is_compiled_once(conn: Connection) -> None:
    _request(conn, rows.create_requester(conn, b"L" * 32, b"P" * 32))
    assert compilations(conn, lambda: [
        oversight.requests_metadata(conn, flagged_only=flagged, page=page)
        for flagged in (False, True) for page in (1, 2)]) == 0


def test_counts(conn: Connection) -> None:
    requester_id = rows.create_requester(conn, b"L" * 32, b"P" * 32)
    _request(conn, requester_id)
    _request(conn, requester_id, skills=("legal", "press"))
    counts = oversight.counts(conn)
    assert {r.name: r.n for r in counts["by_skill"]} == {"legal": 2, "press": 1}
    assert {r.name: r.n for r in counts["unmatched_by_skill"]} == {"legal": 2, "press": 1}
    assert counts["by_week"][0].name.startswith(str(datetime.date.today().year))


def test_purge_keeps_recent_and_removes_old(conn: Connection) -> None:
    requester_id = rows.create_requester(conn, b"L" * 32, b"P" * 32)
    old = _request(conn, requester_id)
    recent = _request(conn, requester_id)
    conn.execute("UPDATE requests SET updated_on = '2026-01-01' WHERE id = ?", (old,))
    today = datetime.date(2026, 6, 1)
    assert oversight.purge_untouched(conn, 90, today=today).requests == 1
    remaining = {r[0] for r in conn.execute("SELECT id FROM requests")}
    assert remaining == {recent}


def test_purge_drops_requesters_left_empty(conn: Connection) -> None:
    requester_id = rows.create_requester(conn, b"L" * 32, b"P" * 32)
    conn.execute("UPDATE requesters SET created_on = '2020-01-01' WHERE id = ?", (requester_id,))
    assert oversight.purge_untouched(conn, 90).requesters == {requester_id}
    assert conn.execute("SELECT count(*) FROM requesters").fetchone()[0] == 0


def test_free_fraction(conn: Connection) -> None:
    assert 0.0 <= oversight.free_fraction(conn) <= 1.0


def test_counts_show_how_many_readers_are_still_x25519_only(conn: Connection) -> None:
    requester_id = rows.create_requester(conn, b"L" * 32, b"P" * 32)
    old_volunteer, _ = add_volunteer(conn, "old-key", ["legal"], ["fa"])
    new_volunteer, _ = add_volunteer(conn, "new-key", ["legal"], ["fa"])
    conn.execute("UPDATE volunteers SET mlkem_public_key = ? WHERE id = ?",
                 (bytes(1184), new_volunteer))
    request_id = _request(conn, requester_id)  # its requester key: none stored (legacy)
    rows.add_request_readers(conn, request_id, [
        rows.Reader("a" * 32, old_volunteer, b"\x01old"),
        rows.Reader("b" * 32, new_volunteer, b"\x02new")])
    rows.create_message(conn, request_id=request_id, public_id=rows.new_public_id(),
                        from_requester=True, author_volunteer_id=None, body=b"B",
                        stanzas={"f" * 32: b"\x01r", "b" * 32: b"\x02n"})
    counts = {r.name: r.n for r in oversight.counts(conn)["key_formats"]}
    assert counts == {"volunteers_v1": 1, "requests_v1": 1, "request_stanzas_v1": 2,
                      "request_stanzas_v2": 1, "message_stanzas_v1": 1,
                      "message_stanzas_v2": 1}


def test_metadata_pages_hold_every_request_once(conn: Connection) -> None:
    requester_id = rows.create_requester(conn, b"Q" * 32, b"P" * 32)
    for _ in range(7):
        _request(conn, requester_id)
    seen = []
    for page in (1, 2, 3):
        listing, total = oversight.requests_metadata(conn, flagged_only=False, page=page,
                                                     page_size=3)
        assert total == 7
        assert len(listing) == (3, 3, 1)[page - 1]
        seen += [row.public_id for row in listing]
    assert len(set(seen)) == 7
