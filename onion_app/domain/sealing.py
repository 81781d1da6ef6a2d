"""Sealing requests and messages to their readers, and opening them again.

The bridge between ``crypto`` (which knows envelopes) and ``store`` (which
knows rows): content is sealed here before any SQL sees it. Associated data
binds each envelope to its row (kind, public id, format version), so a body
copied into another row does not open.

Every reader with an ML-KEM-768 key gets a hybrid stanza (format 2); a reader
without one (a volunteer who has not signed in since, an offline volunteer
with an old key, a request made before hybrid keys) gets an X25519 stanza
(format 1). Whenever a request is re-shared, and whenever a reader signs in,
format-1 stanzas of readers who now have an ML-KEM key are replaced by hybrid
ones (:func:`upgrade_readers`, :func:`upgrade_own_stanzas`).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, MutableMapping, Sequence
from dataclasses import dataclass
from typing import Protocol, TypeVar

from nacl.public import PublicKey

from crypto.attachment import Attachment, seal_attachment
from crypto.envelope import (
    ContentKey,
    add_reader,
    open_envelope,
    open_keeping_key,
    open_with_key,
    seal_with_key,
)
from crypto.errors import DecryptionError
from crypto.hybrid import (
    HybridPrivateKey,
    HybridPublicKey,
    ReaderPrivateKey,
    ReaderPublicKey,
    x25519_private,
    x25519_public,
)
from crypto.keys import fingerprint
from crypto.requester import REQUEST_KEY_VERSION, RequesterKeys
from onion_app.domain import matching
from onion_app.store import attachments as files_store
from onion_app.store import matching as store_matching
from onion_app.store import requests as rows
from onion_app.store.connection import Connection
from onion_app.store.rows import RequestRef

FORMAT_VERSION = 1
# A 20,000-character story can be 80 KB of UTF-8; the bucket above that.
REQUEST_MAX_SIZE = 128 * 1024
MESSAGE_MAX_SIZE = 64 * 1024


_HELP_HEADING = "\n\nWhat would help:\n"


def stored_reader_key(x25519: bytes, mlkem: bytes | None) -> ReaderPublicKey:
    """A stored reader key as crypto takes it: hybrid when it has an ML-KEM half.

    :raises InvalidPublicKey: if a stored half is not a valid key
    """
    return PublicKey(x25519) if mlkem is None else _hybrid_key(x25519, mlkem)


# Checking a hybrid key (a scalar multiplication, parsing 1,184 bytes) was a
# tenth of a submission, for the same few volunteers' keys again and again.
# Public keys only, checked once and kept; a key that fails is not kept.
@functools.lru_cache(maxsize=2048)
def _hybrid_key(x25519: bytes, mlkem: bytes) -> HybridPublicKey:
    return HybridPublicKey.from_bytes(x25519, mlkem)


def _mine(private_key: ReaderPrivateKey) -> str:
    # Stanzas are stored under the X25519 half's fingerprint, for both formats.
    return fingerprint(x25519_private(private_key).public_key)


def request_ad(public_id: str) -> bytes:
    return f"haven/request/{public_id}/v{FORMAT_VERSION}".encode()


def message_ad(public_id: str) -> bytes:
    return f"haven/message/{public_id}/v{FORMAT_VERSION}".encode()


def attachment_ad(parent: str, parent_public_id: str, position: int) -> bytes:
    """Associated data of a file: its envelope's kind and public id, and its place."""
    return f"haven/attachment/{parent}/{parent_public_id}/{position}/v{FORMAT_VERSION}".encode()


def _store_files(conn: Connection, key: ContentKey, *, request_id: int,
                 message_id: int | None, parent_public_id: str,
                 files: Sequence[Attachment]) -> None:
    """Seals each file under its envelope's content key and stores it chunk by
    chunk: the envelope's readers, now and later, are the file's readers."""
    parent = "request" if message_id is None else "message"
    for position, attachment in enumerate(files):
        header, chunks = seal_attachment(key, position,
                                         attachment_ad(parent, parent_public_id, position),
                                         attachment)
        files_store.add_file(conn, request_id=request_id, message_id=message_id,
                             position=position, header=header, chunks=chunks)


@dataclass(frozen=True)
class RequestText:
    """What a requester wrote: only ever in memory, decrypted for one page."""

    title: str
    story: str
    help: str

    # Plain text a person can read when ``python -m crypto open`` prints it,
    # yet unambiguous: the title is one line and the story's length is given.
    def encode(self) -> bytes:
        title = " ".join(self.title.split())
        return (f"Title: {title}\nStory-Characters: {len(self.story)}\n\n{self.story}"
                f"{_HELP_HEADING}{self.help}").encode()

    @classmethod
    def decode(cls, data: bytes) -> RequestText:
        """:raises ValueError: if the text is not in this format"""
        text = data.decode()
        title_line, length_line, blank, _ = text.split("\n", 3)
        if not (title_line.startswith("Title: ") and length_line.startswith("Story-Characters: ")
                and blank == ""):
            raise ValueError("not a Haven request text")
        start = len(title_line) + len(length_line) + 3
        end = start + int(length_line.removeprefix("Story-Characters: "))
        if not text.startswith(_HELP_HEADING, end):
            raise ValueError("not a Haven request text")
        return cls(title_line.removeprefix("Title: "), text[start:end],
                   text[end + len(_HELP_HEADING):])


@dataclass(frozen=True)
class ThreadMessage:
    """One decrypted message of a thread."""

    public_id: str
    from_requester: bool
    author: str | None
    created_on: str
    text: str | None  # None: this message could not be opened


@dataclass(frozen=True)
class NewRequest:
    """A request as the form gives it, before sealing."""

    text: RequestText
    skills: frozenset[str]
    languages: frozenset[str]
    region: str
    urgency: str


def submit_request(conn: Connection, requester_id: int, keys: RequesterKeys,
                   new: NewRequest, policy: matching.Policy,
                   files: Sequence[Attachment] = ()) -> str:
    """Seals a new request to its requester and its matched volunteers (and,
    when too few match, to triage volunteers), and stores it.

    The requester's reader key is this request's own, derived from ``keys``
    and the new public id, never the account key: a key shared by requests
    would show their readers that one person wrote them.

    :returns: the request's public id
    """
    public_id = rows.new_public_id()
    requester_key = keys.request_key(public_id, version=REQUEST_KEY_VERSION).public_key
    pool = store_matching.pool_version(conn)
    chosen = matching.choose(conn, matching.Needs(new.skills, new.languages), policy,
                             policy.match_limit)
    by_fingerprint = {fingerprint(PublicKey(c.public_key)): (c, False) for c in chosen.matched}
    by_fingerprint.update({fingerprint(PublicKey(c.public_key)): (c, True)
                           for c in chosen.triage})
    # The requester's stanza is the requester's, whoever else claims the key:
    # under a volunteer's id it would go when that account is deleted.
    by_fingerprint.pop(fingerprint(x25519_public(requester_key)), None)
    readers = [requester_key,
               *(stored_reader_key(c.public_key, c.mlkem_public_key)
                 for c, _ in by_fingerprint.values())]
    envelope, content_key = seal_with_key(new.text.encode(), readers, request_ad(public_id),
                                          max_size=REQUEST_MAX_SIZE)
    stored = []
    for fp, stanza in envelope.stanzas.items():
        candidate, for_triage = by_fingerprint.get(fp, (None, False))
        stored.append(rows.Reader(fp, None if candidate is None else candidate.volunteer_id,
                                  stanza, for_triage))
    request_id = rows.create_request(
        conn, requester_id=requester_id, public_id=public_id, urgency=new.urgency,
        region=new.region, skills=new.skills, languages=new.languages,
        body=envelope.body, readers=stored, requester_key=bytes(x25519_public(requester_key)),
        requester_key_version=REQUEST_KEY_VERSION,
        requester_mlkem_key=(requester_key.mlkem if isinstance(requester_key, HybridPublicKey)
                             else None),
        matched_pool=pool,
    )
    _store_files(conn, content_key, request_id=request_id, message_id=None,
                 parent_public_id=public_id, files=files)
    return public_id


def open_request(conn: Connection, request_id: int, public_id: str,
                 private_key: ReaderPrivateKey,
                 content_keys: MutableMapping[str, ContentKey] | None = None) -> RequestText:
    """Decrypts a request for one of its readers.

    :param content_keys: the reader's content keys by public id, as
        :func:`open_requests` keeps them
    :raises DecryptionError: if this key is not a reader, or the row was tampered with
    """
    opened = open_requests(conn, [RequestRef(request_id, public_id)],
                           lambda _: private_key, {} if content_keys is None else content_keys)
    return opened[request_id]


class Openable(Protocol):
    """A request to open: its row id, and the public id its envelope is bound to."""

    @property
    def id(self) -> int: ...

    @property
    def public_id(self) -> str: ...


R = TypeVar("R", bound=Openable)


def open_requests(conn: Connection, requests: Sequence[R],
                  key_for: Callable[[R], ReaderPrivateKey],
                  content_keys: MutableMapping[str, ContentKey]) -> dict[int, RequestText]:
    """Decrypts several requests for their reader, reading them in one query.

    A reader opening a request again skips its stanza: ``content_keys``
    holds the content key of each request this reader opened before, by
    public id, and gains the ones opened now. The body is opened with it and
    checked as ever (its commitment, its associated data), and a key that
    does not open it is dropped for the stanza. ``key_for`` gives a
    request's private key, asked only when its stanza is opened.

    .. warning:: ``content_keys`` open these requests, as the private keys
       do: keep it only where those are kept (a session, in memory), for no
       longer, and never the texts.

    :returns: each request's text, by row id
    :raises DecryptionError: if a key is not a reader of its request, or a
        row was tampered with
    """
    known = {r.id: content_keys.get(r.public_id) for r in requests}
    keys = {r.id: key_for(r) for r in requests if known[r.id] is None}
    sealed = rows.sealed_requests(conn, [(r.id, _mine(keys[r.id]) if r.id in keys else None)
                                         for r in requests])
    opened = {}
    for request in requests:
        stanza, body = sealed.get(request.id, (None, b""))
        ad = request_ad(request.public_id)
        content_key = known[request.id]
        if content_key is not None:
            try:
                opened[request.id] = RequestText.decode(
                    open_with_key(body, content_key, ad, max_size=REQUEST_MAX_SIZE))
                continue
            except DecryptionError:
                content_keys.pop(request.public_id, None)
            keys[request.id] = key_for(request)
            stanza = rows.request_stanza(conn, request.id, _mine(keys[request.id]))
        if stanza is None:
            raise DecryptionError("not a reader of this request")
        plaintext, content_keys[request.public_id] = open_keeping_key(
            body, stanza, keys[request.id], ad, max_size=REQUEST_MAX_SIZE)
        opened[request.id] = RequestText.decode(plaintext)
    return opened


def post_message(conn: Connection, request_id: int, text: str, *, from_requester: bool,
                 author_volunteer_id: int | None = None,
                 files: Sequence[Attachment] = ()) -> str:
    """Seals a message to every current reader of the request and stores it.

    :returns: the message's public id
    """
    public_id = rows.new_public_id()
    keys = [stored_reader_key(k.x25519, k.mlkem)
            for k in rows.request_reader_keys(conn, request_id)]
    envelope, content_key = seal_with_key(text.encode(), keys, message_ad(public_id),
                                          max_size=MESSAGE_MAX_SIZE)
    message_id = rows.create_message(
        conn, request_id=request_id, public_id=public_id, from_requester=from_requester,
        author_volunteer_id=author_volunteer_id, body=envelope.body, stanzas=envelope.stanzas)
    _store_files(conn, content_key, request_id=request_id, message_id=message_id,
                 parent_public_id=public_id, files=files)
    return public_id


def open_thread(conn: Connection, request_id: int, private_key: ReaderPrivateKey, *,
                offset: int = 0, limit: int | None = None) -> list[ThreadMessage]:
    """Decrypts a request's messages for one reader, in order: ``limit`` of
    them from the ``offset``-th on (all when ``None``), so that a page
    decrypts only what it shows.

    A message sealed before this reader joined and not yet shared with them
    is left out; one that does not open (a reply sealed offline by a broken
    tool, say) is shown as such, rather than failing the whole page.
    """
    found = []
    for row in rows.thread_of(conn, request_id, _mine(private_key),
                              offset=offset, limit=limit):
        if row.stanza is None:
            continue
        try:
            text: str | None = open_envelope(
                row.body, row.stanza, private_key,
                message_ad(row.public_id), max_size=MESSAGE_MAX_SIZE).decode()
        except (DecryptionError, UnicodeDecodeError):
            text = None
        found.append(ThreadMessage(row.public_id, bool(row.from_requester),
                                   row.author, row.created_on, text))
    return found


def share_with(conn: Connection, request_id: int, public_id: str,
               reader_key: ReaderPrivateKey, new_reader: ReaderPublicKey,
               volunteer_id: int, *, for_triage: bool = False) -> None:
    """Makes a new volunteer a reader of a request and its whole thread, and
    upgrades the format-1 stanzas of every reader who now has a hybrid key.

    ``reader_key`` is any current reader's private key (the requester's or a
    volunteer's at sign-in, the referring volunteer's on referral); the bodies
    are untouched. ``for_triage``: the new reader is a triage volunteer.

    :raises DecryptionError: if ``reader_key`` does not read the request
    """
    _share(conn, request_id, reader_key, new_reader, volunteer_id, for_triage)
    upgrade_readers(conn, request_id, reader_key)


def _share(conn: Connection, request_id: int, reader_key: ReaderPrivateKey,
           new_reader: ReaderPublicKey, volunteer_id: int | None,
           for_triage: bool = False) -> None:
    mine = _mine(reader_key)
    theirs = fingerprint(x25519_public(new_reader))
    stanza = rows.request_stanza(conn, request_id, mine)
    if stanza is None:
        raise DecryptionError("not a reader of this request")
    rows.add_request_readers(conn, request_id,
                             [rows.Reader(theirs, volunteer_id,
                                          add_reader(stanza, reader_key, new_reader),
                                          for_triage)])
    for message_id, _ in rows.message_ids(conn, request_id):
        message_stanza = rows.message_stanza(conn, message_id, mine)
        if message_stanza is None:
            continue
        # Only messages the new reader was already given are re-sealed to them;
        # a message they never had is not handed out by an upgrade.
        if volunteer_id is None and rows.message_stanza(conn, message_id, theirs) is None:
            continue
        try:
            shared = add_reader(message_stanza, reader_key, new_reader)
        except DecryptionError:
            continue  # a broken message stays unreadable; it must not block the rest
        rows.add_message_readers(conn, message_id, {theirs: shared})


def upgrade_readers(conn: Connection, request_id: int, reader_key: ReaderPrivateKey) -> int:
    """Replaces the format-1 stanzas of a request's readers who have a hybrid key
    by hybrid ones, using any current reader's private key.

    Volunteers who are no longer vetted keep what they have and get nothing new.

    :returns: how many readers were upgraded
    """
    stale = rows.v1_fingerprints(conn, request_id)
    if not stale:
        return 0
    upgraded = 0
    for key in rows.request_reader_keys(conn, request_id):
        if key.mlkem is None:
            continue
        public = _reader_key_or_none(key)
        if public is None or fingerprint(x25519_public(public)) not in stale:
            continue
        try:
            _share(conn, request_id, reader_key, public, None)
        except DecryptionError:
            return upgraded  # this reader's own stanza does not open: nothing to re-seal
        upgraded += 1
    return upgraded


def _reader_key_or_none(key: rows.ReaderKey) -> ReaderPublicKey | None:
    """:func:`reader_key`, or None for a stored key that is not a valid one."""
    try:
        return stored_reader_key(key.x25519, key.mlkem)
    except ValueError:
        return None


def upgrade_own_stanzas(conn: Connection, private_key: HybridPrivateKey) -> int:
    """Re-seals every format-1 stanza of this reader to their own hybrid key
    (at sign-in, once they hold one). Stanzas that do not open are left alone.

    :returns: how many stanzas were replaced
    """
    mine = _mine(private_key)
    public = private_key.public_key
    request_stanzas, message_stanzas = rows.v1_stanzas_of(conn, mine)
    replaced = 0
    for request_id, stanza in request_stanzas:
        try:
            fresh = add_reader(stanza, private_key, public)
        except DecryptionError:
            continue
        rows.add_request_readers(conn, request_id, [rows.Reader(mine, None, fresh)])
        replaced += 1
    for message_id, stanza in message_stanzas:
        try:
            fresh = add_reader(stanza, private_key, public)
        except DecryptionError:
            continue
        rows.add_message_readers(conn, message_id, {mine: fresh})
        replaced += 1
    return replaced


def upgrade_requester(conn: Connection, requester_id: int, keys: RequesterKeys) -> int:
    """Gives each of a requester's version-1 requests its version-2 (hybrid) key,
    and makes that request's format-1 stanzas hybrid for every reader with a
    hybrid key, the requester included (at login).

    The version-2 key's X25519 half is the version-1 key, so the requester's
    fingerprint, and the rows their stanzas live in, stay the same.

    :returns: how many requests were upgraded
    """
    upgraded = 0
    for request in rows.requests_with_v1_keys(conn, requester_id):
        hybrid = keys.request_key(request.public_id, version=2)
        if not isinstance(hybrid, HybridPrivateKey):  # version 2 is always hybrid
            continue
        rows.upgrade_request_key(conn, int(request.id), hybrid.public_key.mlkem)
        upgrade_readers(conn, int(request.id), hybrid)
        upgraded += 1
    return upgraded
