"""Sealing through the real store: readers, associated data, sharing, re-matching."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from nacl.public import PrivateKey

from crypto.errors import DecryptionError
from crypto.keys import fingerprint
from onion_app.config import Config
from onion_app.domain import sealing
from onion_app.store import Database
from onion_app.store import requests as rows
from onion_app.store.connection import Connection
from tests.journey import add_volunteer

TEXT = sealing.RequestText("A title", "The story, with ش and 中文.", "Some help")


@pytest.fixture
def conn(initialised: Config) -> Iterator[Connection]:
    connection = Database(initialised).open()
    yield connection
    connection.close()


def _requester(conn: Connection) -> tuple[int, PrivateKey]:
    key = PrivateKey.generate()
    return rows.create_requester(conn, bytes(key.public_key), bytes(key.public_key)), key


def _submit(conn: Connection, requester_id: int, key: PrivateKey, limit: int = 10,
            skills: frozenset[str] = frozenset({"legal"})) -> tuple[int, str]:
    new = sealing.NewRequest(TEXT, skills, frozenset({"fa"}), "unsaid", "normal")
    public_id = sealing.submit_request(conn, requester_id, key.public_key, new, limit)
    row = conn.execute("SELECT id FROM requests WHERE public_id = ?", (public_id,)).fetchone()
    return int(row[0]), public_id


def test_request_text_round_trips(conn: Connection) -> None:
    requester_id, key = _requester(conn)
    request_id, public_id = _submit(conn, requester_id, key)
    assert sealing.open_request(conn, request_id, public_id, key) == TEXT


def test_body_moved_to_another_row_does_not_open(conn: Connection) -> None:
    requester_id, key = _requester(conn)
    first_id, first_public = _submit(conn, requester_id, key)
    second_id, second_public = _submit(conn, requester_id, key)
    body = rows.request_body(conn, first_id)
    stanza = rows.request_stanza(conn, first_id, fingerprint(key.public_key))
    conn.execute("UPDATE request_bodies SET body = ? WHERE request_id = ?", (body, second_id))
    conn.execute("UPDATE request_readers SET stanza = ? WHERE request_id = ?", (stanza, second_id))
    with pytest.raises(DecryptionError):
        sealing.open_request(conn, second_id, second_public, key)
    assert sealing.open_request(conn, first_id, first_public, key) == TEXT


def test_submission_seals_to_at_most_k_volunteers(conn: Connection) -> None:
    keys = [add_volunteer(conn, f"v{i}", ["legal"], ["fa"])[1] for i in range(5)]
    requester_id, key = _requester(conn)
    request_id, public_id = _submit(conn, requester_id, key, limit=3)
    assert len(rows.volunteer_readers(conn, request_id)) == 3
    opened = 0
    for volunteer_key in keys:
        try:
            sealing.open_request(conn, request_id, public_id, volunteer_key)
            opened += 1
        except DecryptionError:
            pass
    assert opened == 3


def test_messages_reach_every_current_reader(conn: Connection) -> None:
    _, volunteer_key = add_volunteer(conn, "lawyer", ["legal"], ["fa"])
    requester_id, key = _requester(conn)
    request_id, _ = _submit(conn, requester_id, key)
    sealing.post_message(conn, request_id, "hello from the requester", from_requester=True)
    for reader in (key, volunteer_key):
        assert [m.text for m in sealing.open_thread(conn, request_id, reader)] == [
            "hello from the requester"]


def test_share_with_gives_the_whole_thread(conn: Connection) -> None:
    requester_id, key = _requester(conn)
    request_id, public_id = _submit(conn, requester_id, key)
    sealing.post_message(conn, request_id, "first", from_requester=True)
    sealing.post_message(conn, request_id, "second", from_requester=True)
    volunteer_id, volunteer_key = add_volunteer(conn, "late", ["legal"], ["fa"])
    assert sealing.open_thread(conn, request_id, volunteer_key) == []
    sealing.share_with(conn, request_id, public_id, key, volunteer_key.public_key, volunteer_id)
    assert sealing.open_request(conn, request_id, public_id, volunteer_key) == TEXT
    assert [m.text for m in sealing.open_thread(conn, request_id, volunteer_key)] == [
        "first", "second"]


def test_share_with_needs_a_reader(conn: Connection) -> None:
    requester_id, key = _requester(conn)
    request_id, public_id = _submit(conn, requester_id, key)
    volunteer_id, volunteer_key = add_volunteer(conn, "x", ["legal"], ["fa"])
    with pytest.raises(DecryptionError):
        sealing.share_with(conn, request_id, public_id, PrivateKey.generate(),
                           volunteer_key.public_key, volunteer_id)


def test_rematch_fills_up_to_k_and_skips_closed(conn: Connection) -> None:
    requester_id, key = _requester(conn)
    open_id, _ = _submit(conn, requester_id, key)
    closed_id, _ = _submit(conn, requester_id, key)
    rows.set_status(conn, closed_id, "closed")
    for i in range(4):
        add_volunteer(conn, f"new{i}", ["legal"], ["fa"])
    assert sealing.rematch(conn, requester_id, key, match_limit=2) == 2
    assert len(rows.volunteer_readers(conn, open_id)) == 2
    assert rows.volunteer_readers(conn, closed_id) == set()
    assert sealing.rematch(conn, requester_id, key, match_limit=2) == 0


@pytest.mark.parametrize("text", [
    sealing.RequestText("t", "", ""),
    sealing.RequestText("A title", "line\n\nWhat would help:\nin the story", "help\nhelp"),
    sealing.RequestText("عنوان", "داستان\r\n" * 5, "کمک"),
])
def test_request_text_format_round_trips(text: sealing.RequestText) -> None:
    encoded = text.encode()
    assert encoded.startswith(b"Title: ")
    assert sealing.RequestText.decode(encoded) == text


def test_request_text_refuses_other_text() -> None:
    with pytest.raises(ValueError, match="not a Haven request"):
        sealing.RequestText.decode(b"hello\nworld\n\nmore")
