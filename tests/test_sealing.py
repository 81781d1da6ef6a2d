"""Sealing through the real store: readers, associated data, sharing, re-matching."""

from __future__ import annotations

import datetime
from collections.abc import Iterator

import nacl.utils
import pytest
from nacl.public import PrivateKey

from crypto.envelope import ContentKey, seal
from crypto.errors import DecryptionError, InvalidPublicKey
from crypto.hybrid import (
    HybridPublicKey,
    ReaderPrivateKey,
    gain_mlkem,
    x25519_private,
    x25519_public,
)
from crypto.keys import fingerprint
from crypto.requester import REQUEST_KEY_VERSION, RequesterKeys
from crypto.stanza import stanza_version
from onion_app.config import Config
from onion_app.domain import requester_keys, sealing, widening
from onion_app.domain.matching import Policy
from onion_app.store import Database
from onion_app.store import matching as store_matching
from onion_app.store import requests as rows
from onion_app.store.connection import Connection
from onion_app.store.rows import RequestRef
from tests.journey import add_volunteer

TODAY = datetime.date.today()
TEXT = sealing.RequestText("A title", "The story, with ش and 中文.", "Some help")


@pytest.fixture
def conn(initialised: Config) -> Iterator[Connection]:
    connection = Database(initialised).open()
    yield connection
    connection.close()


def _requester(conn: Connection) -> tuple[int, RequesterKeys]:
    # What a codename derives, without the KDF: these tests are about sealing.
    keys = RequesterKeys(lookup_id=nacl.utils.random(32), private_key=PrivateKey.generate(),
                         master_secret=nacl.utils.random(32))
    return rows.create_requester(conn, keys.lookup_id, bytes(keys.public_key)), keys


def _submit(conn: Connection, requester_id: int, keys: RequesterKeys, limit: int = 10,
            skills: frozenset[str] = frozenset({"legal"})) -> tuple[int, str, ReaderPrivateKey]:
    """:returns: the request's row id, public id, and the requester's key for it"""
    new = sealing.NewRequest(TEXT, skills, frozenset({"fa"}), "unsaid", "normal")
    public_id = sealing.submit_request(conn, requester_id, keys, new, Policy(limit))
    row = conn.execute("SELECT id FROM requests WHERE public_id = ?", (public_id,)).fetchone()
    return int(row[0]), public_id, keys.request_key(public_id)


def _submit_legacy(conn: Connection, requester_id: int, keys: RequesterKeys) -> tuple[int, str]:
    """A request as Haven stored them before per-request keys: sealed to the
    account key, with no key of its own recorded."""
    public_id = rows.new_public_id()
    envelope = seal(TEXT.encode(), [keys.public_key], sealing.request_ad(public_id),
                    max_size=sealing.REQUEST_MAX_SIZE)
    request_id = rows.create_request(
        conn, requester_id=requester_id, public_id=public_id, urgency="normal",
        region="unsaid", skills={"legal"}, languages={"fa"}, body=envelope.body,
        readers=[rows.Reader(fp, None, stanza) for fp, stanza in envelope.stanzas.items()])
    return request_id, public_id


def test_request_text_round_trips(conn: Connection) -> None:
    requester_id, keys = _requester(conn)
    request_id, public_id, key = _submit(conn, requester_id, keys)
    assert sealing.open_request(conn, request_id, public_id, key) == TEXT


def test_body_moved_to_another_row_does_not_open(conn: Connection) -> None:
    requester_id, keys = _requester(conn)
    first_id, first_public, key = _submit(conn, requester_id, keys)
    second_id, second_public, _ = _submit(conn, requester_id, keys)
    body = rows.request_body(conn, first_id)
    stanza = rows.request_stanza(conn, first_id, fingerprint(key.public_key))
    conn.execute("UPDATE request_bodies SET body = ? WHERE request_id = ?", (body, second_id))
    conn.execute("UPDATE request_readers SET stanza = ?, fingerprint = ? WHERE request_id = ?"
                 " AND volunteer_id IS NULL", (stanza, fingerprint(key.public_key), second_id))
    with pytest.raises(DecryptionError):
        sealing.open_request(conn, second_id, second_public, key)
    assert sealing.open_request(conn, first_id, first_public, key) == TEXT


def test_submission_seals_to_at_most_k_volunteers(conn: Connection) -> None:
    volunteer_keys = [add_volunteer(conn, f"v{i}", ["legal"], ["fa"])[1] for i in range(5)]
    requester_id, keys = _requester(conn)
    request_id, public_id, _ = _submit(conn, requester_id, keys, limit=3)
    assert len(rows.volunteer_readers(conn, request_id)) == 3
    opened = 0
    for volunteer_key in volunteer_keys:
        try:
            sealing.open_request(conn, request_id, public_id, volunteer_key)
            opened += 1
        except DecryptionError:
            pass
    assert opened == 3


def test_messages_reach_every_current_reader(conn: Connection) -> None:
    _, volunteer_key = add_volunteer(conn, "lawyer", ["legal"], ["fa"])
    requester_id, keys = _requester(conn)
    request_id, _, key = _submit(conn, requester_id, keys)
    sealing.post_message(conn, request_id, "hello from the requester", from_requester=True)
    for reader in (key, volunteer_key):
        assert [m.text for m in sealing.open_thread(conn, request_id, reader)] == [
            "hello from the requester"]


def test_share_with_gives_the_whole_thread(conn: Connection) -> None:
    requester_id, keys = _requester(conn)
    request_id, public_id, key = _submit(conn, requester_id, keys)
    sealing.post_message(conn, request_id, "first", from_requester=True)
    sealing.post_message(conn, request_id, "second", from_requester=True)
    volunteer_id, volunteer_key = add_volunteer(conn, "late", ["legal"], ["fa"])
    assert sealing.open_thread(conn, request_id, volunteer_key) == []
    sealing.share_with(conn, request_id, public_id, key, volunteer_key.public_key, volunteer_id)
    assert sealing.open_request(conn, request_id, public_id, volunteer_key) == TEXT
    assert [m.text for m in sealing.open_thread(conn, request_id, volunteer_key)] == [
        "first", "second"]


def test_share_with_needs_a_reader(conn: Connection) -> None:
    requester_id, keys = _requester(conn)
    request_id, public_id, _ = _submit(conn, requester_id, keys)
    volunteer_id, volunteer_key = add_volunteer(conn, "x", ["legal"], ["fa"])
    for not_a_reader in (PrivateKey.generate(), keys.private_key):  # not even the account key
        with pytest.raises(DecryptionError):
            sealing.share_with(conn, request_id, public_id, not_a_reader,
                               volunteer_key.public_key, volunteer_id)


def test_rematch_fills_up_to_k_and_skips_closed(conn: Connection) -> None:
    requester_id, keys = _requester(conn)
    open_id, _, _ = _submit(conn, requester_id, keys)
    closed_id, _, _ = _submit(conn, requester_id, keys)
    rows.set_status(conn, closed_id, "closed")
    for i in range(4):
        add_volunteer(conn, f"new{i}", ["legal"], ["fa"])
    assert widening.at_requester_sign_in(conn, requester_id, keys, Policy(2), TODAY) == 2
    assert len(rows.volunteer_readers(conn, open_id)) == 2
    assert rows.volunteer_readers(conn, closed_id) == set()
    assert widening.at_requester_sign_in(conn, requester_id, keys, Policy(2), TODAY) == 0


def test_each_request_is_sealed_to_its_own_requester_key(conn: Connection) -> None:
    requester_id, keys = _requester(conn)
    first_id, first_public, first_key = _submit(conn, requester_id, keys)
    second_id, _, second_key = _submit(conn, requester_id, keys)
    first_public_key, second_public_key = first_key.public_key, second_key.public_key
    assert isinstance(first_public_key, HybridPublicKey)
    assert fingerprint(first_public_key) != fingerprint(second_public_key)
    stored = conn.execute("SELECT requester_key, requester_key_version, requester_mlkem_key"
                          " FROM requests WHERE id = ?", (first_id,)).fetchone()
    assert (bytes(stored[0]), stored[1], bytes(stored[2])) == (
        bytes(first_public_key.x25519), REQUEST_KEY_VERSION, first_public_key.mlkem)
    # The readers messages are sealed to (and the offline --to list) name this
    # request's key, never the account key or another request's.
    reader_keys = rows.request_reader_keys(conn, first_id)
    assert rows.ReaderKey(bytes(first_public_key.x25519), first_public_key.mlkem) in reader_keys
    for other in (keys.public_key, x25519_public(second_public_key)):
        assert bytes(other) not in {k.x25519 for k in reader_keys}
    # Nor does this request's own X25519 half alone: its stanza is hybrid.
    for wrong in (keys.private_key, second_key, x25519_private(first_key)):
        with pytest.raises(DecryptionError):
            sealing.open_request(conn, first_id, first_public, wrong)
    sealing.post_message(conn, second_id, "to the second", from_requester=True)
    assert [m.text for m in sealing.open_thread(conn, second_id, second_key)] == [
        "to the second"]
    assert sealing.open_thread(conn, second_id, first_key) == []


def test_requests_sealed_to_the_account_key_keep_working(conn: Connection) -> None:
    requester_id, keys = _requester(conn)
    legacy_id, legacy_public = _submit_legacy(conn, requester_id, keys)
    new_id, _, _ = _submit(conn, requester_id, keys)
    ref = {r.id: r for r, _ in store_matching.requests_to_widen(
        conn, pool=2**62, due_on_or_before="1970-01-01", limit=10, requester_id=requester_id)}
    assert (ref[legacy_id].requester_key_version, ref[new_id].requester_key_version) == (
        None, REQUEST_KEY_VERSION)
    account_key = requester_keys.request_key(keys, legacy_public, None)
    assert bytes(account_key) == bytes(keys.private_key)
    assert sealing.open_request(conn, legacy_id, legacy_public, account_key) == TEXT
    assert rows.request_reader_keys(conn, legacy_id) == [
        rows.ReaderKey(bytes(keys.public_key), None)]
    sealing.post_message(conn, legacy_id, "still here", from_requester=True)
    _, volunteer_key = add_volunteer(conn, "late", ["legal"], ["fa"])
    # Login's re-matching opens each request with the key it is sealed to.
    assert widening.at_requester_sign_in(conn, requester_id, keys, Policy(10), TODAY) == 2
    assert sealing.open_request(conn, legacy_id, legacy_public, volunteer_key) == TEXT
    assert [m.text for m in sealing.open_thread(conn, legacy_id, volunteer_key)] == [
        "still here"]


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


def test_a_re_share_upgrades_readers_who_gained_an_mlkem_key(conn: Connection) -> None:
    requester_id, keys = _requester(conn)
    old_id, old_key = add_volunteer(conn, "old", ["legal"], ["fa"])  # X25519 only, as before
    request_id, public_id, requester_key = _submit(conn, requester_id, keys)
    sealing.post_message(conn, request_id, "before", from_requester=True)
    mine = fingerprint(old_key.public_key)
    assert stanza_version(rows.request_stanza(conn, request_id, mine) or b"") == 1
    # The volunteer gains an ML-KEM key (at sign-in); nothing of theirs is touched yet.
    hybrid = gain_mlkem(old_key)
    conn.execute("UPDATE volunteers SET mlkem_public_key = ? WHERE id = ?",
                 (hybrid.public_key.mlkem, old_id))
    # A referral to someone new, by the requester's key: a re-share.
    new_id, new_key = add_volunteer(conn, "new", ["legal"], ["fa"])
    sealing.share_with(conn, request_id, public_id, requester_key, new_key.public_key, new_id)
    stanzas = [rows.request_stanza(conn, request_id, mine)]
    stanzas += [rows.message_stanza(conn, m, mine) for m, _ in rows.message_ids(conn, request_id)]
    assert [stanza_version(s or b"") for s in stanzas] == [2, 2]
    assert sealing.open_request(conn, request_id, public_id, hybrid) == TEXT
    assert [m.text for m in sealing.open_thread(conn, request_id, hybrid)] == ["before"]
    # Their X25519 key alone no longer opens what was re-sealed.
    with pytest.raises(DecryptionError):
        sealing.open_request(conn, request_id, public_id, old_key)
    # The new reader, with no ML-KEM key, got format 1; the requester, format 2.
    assert stanza_version(rows.request_stanza(
        conn, request_id, fingerprint(new_key.public_key)) or b"") == 1
    assert stanza_version(rows.request_stanza(
        conn, request_id, fingerprint(requester_key.public_key)) or b"") == 2


def test_stored_reader_keys_are_checked_once_and_bad_ones_every_time() -> None:
    public = gain_mlkem(PrivateKey.generate()).public_key
    raw = (bytes(public.x25519), public.mlkem)
    first = sealing.stored_reader_key(*raw)
    assert first == public
    assert sealing.stored_reader_key(*raw) is first  # kept: checked once
    assert sealing.stored_reader_key(raw[0], None) == public.x25519
    for _ in range(2):  # a refused key is refused again, never kept
        with pytest.raises(InvalidPublicKey):
            sealing.stored_reader_key(bytes(32), public.mlkem)


def test_a_list_opens_its_requests_in_one_query_and_keeps_their_keys(conn: Connection) -> None:
    requester_id, keys = _requester(conn)
    submitted = [_submit(conn, requester_id, keys) for _ in range(3)]
    listed = [RequestRef(request_id, public_id) for request_id, public_id, _ in submitted]
    private = {public_id: key for _, public_id, key in submitted}
    asked: list[str] = []

    def key_for(ref: RequestRef) -> ReaderPrivateKey:
        asked.append(ref.public_id)
        return private[ref.public_id]

    kept: dict[str, ContentKey] = {}
    reads = _statements(conn)
    assert sealing.open_requests(conn, listed, key_for, kept) == {
        ref.id: TEXT for ref in listed}
    assert len(reads) == 1
    assert sorted(asked) == sorted(private)
    # What is kept is each request's content key, and nothing of its text.
    assert set(kept) == set(private)
    assert all(isinstance(key, ContentKey) for key in kept.values())
    # Opened again: no private key, no stanza (here, none left), one query.
    conn.execute("DELETE FROM request_readers WHERE volunteer_id IS NULL")
    asked.clear()
    reads.clear()
    assert sealing.open_requests(conn, listed, key_for, kept) == {
        ref.id: TEXT for ref in listed}
    assert asked == []
    assert len(reads) == 1


def test_a_kept_key_that_does_not_open_is_dropped_for_the_stanza(conn: Connection) -> None:
    requester_id, keys = _requester(conn)
    request_id, public_id, key = _submit(conn, requester_id, keys)
    other_id, other_public, other_key = _submit(conn, requester_id, keys)
    kept: dict[str, ContentKey] = {}
    sealing.open_request(conn, other_id, other_public, other_key, kept)
    kept[public_id] = kept[other_public]  # another body's key
    assert sealing.open_request(conn, request_id, public_id, key, kept) == TEXT
    assert kept[public_id] != kept[other_public]
    assert sealing.open_request(conn, request_id, public_id, key, kept) == TEXT


def test_a_kept_key_is_no_way_round_the_reader_check(conn: Connection) -> None:
    requester_id, keys = _requester(conn)
    request_id, public_id, _ = _submit(conn, requester_id, keys)
    outsider = gain_mlkem(PrivateKey.generate())
    with pytest.raises(DecryptionError, match="not a reader"):
        sealing.open_requests(conn, [RequestRef(request_id, public_id)],
                              lambda _: outsider, {})
    # A key kept for a row that is gone opens nothing, and is dropped.
    kept = {"gone": ContentKey(bytes(32))}
    with pytest.raises(DecryptionError, match="not a reader"):
        sealing.open_requests(conn, [RequestRef(request_id + 99, "gone")],
                              lambda _: outsider, kept)
    assert kept == {}


def _statements(conn: Connection) -> list[str]:
    """The statements ``conn`` runs from now on, as SQLite traces them."""
    seen: list[str] = []
    conn.set_trace_callback(seen.append)
    return seen
