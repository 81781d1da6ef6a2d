"""Logged-in sessions, held in this process's memory only.

The cookie carries a random session id and nothing else of value; the
unlocked private key stays here, in memory, and never touches disk. A restart
forgets every session, so everyone logs in again (DESIGN §4). Idle and
absolute lifetimes both apply.

Chosen over a cookie holding the key sealed under a process key because the
server can then end a session for certain (logout, account deletion) instead
of trusting a cookie the browser might replay, and because nothing derived
from the key ever leaves the server, even encrypted.
"""

from __future__ import annotations

import secrets
import threading
import time
import weakref
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from crypto.envelope import ContentKey
from crypto.hybrid import ReaderPrivateKey
from crypto.requester import RequesterKeys

# A volunteer who has passed the passphrase but not yet confirmed TOTP: the
# account is a volunteer's, the session opens nothing but enrolment.
ENROLLING = "enrolling"
_ACCOUNT_KIND = {ENROLLING: "volunteer"}


def account_kind(kind: str) -> str:
    """Whose account a session of ``kind`` belongs to ("requester" or "volunteer")."""
    return _ACCOUNT_KIND.get(kind, kind)


@dataclass
class Session:
    """One logged-in person.

    .. warning:: ``private_key`` (a volunteer's) and ``requester_keys`` (a
       requester's: the master secret each request's key is derived from)
       unlock everything sealed to this person.
    """

    kind: str  # "requester" or "volunteer"
    account_id: int
    private_key: ReaderPrivateKey | None = field(repr=False)
    started: float
    last_seen: float
    # A TOTP secret being enrolled: held here, never in the cookie.
    pending_totp: str | None = field(default=None, repr=False)
    # A requester holds what derives each request's key, not one key for all.
    requester_keys: RequesterKeys | None = field(default=None, repr=False)
    # What ties the session to one account for good, checked on every page:
    # row ids can come back for a newcomer after a deletion or a purge, this
    # cannot (a volunteer's random public id, a requester's public key).
    account_ref: str = ""
    # A new requester's codename as keyed digests of its words, until they
    # have typed it once more from paper (the practice round); never the words.
    practice: tuple[bytes, ...] = field(default=(), repr=False)
    # Keys derived this session for its requests, by (public id, version): a
    # list of ten titles derived ten keys on every view. Held in memory as the
    # master secret they come from is, and gone with the session; bounded.
    request_keys: dict[tuple[str, int], ReaderPrivateKey] = field(default_factory=dict,
                                                                  repr=False)
    # The content keys of this session's requests opened so far, by public
    # id: a list opened again opens each body with its key, not its hybrid
    # stanza (two decapsulations a title). Keys, never texts; held and bounded
    # as ``request_keys`` are, whose keys open the same stanzas.
    content_keys: dict[str, ContentKey] = field(default_factory=dict, repr=False)


class SessionStore:
    """Sessions by id, with idle and absolute timeouts, safe across threads."""

    def __init__(self, idle_seconds: float, lifetime_seconds: float,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._idle = idle_seconds
        self._lifetime = lifetime_seconds
        self._sessions: dict[str, Session] = {}
        self._lock = threading.Lock()

    def create(self, kind: str, account_id: int, private_key: ReaderPrivateKey | None,
               pending_totp: str | None = None, *,
               requester_keys: RequesterKeys | None = None, account_ref: str = "") -> str:
        """Starts a session and returns its id (for the cookie only)."""
        now = self._clock()
        session_id = secrets.token_urlsafe(32)
        with self._lock:
            self._prune(now)
            self._sessions[session_id] = Session(kind, account_id, private_key, now, now,
                                                 pending_totp, requester_keys, account_ref)
        return session_id

    def get(self, session_id: str | None) -> Session | None:
        """The live session with this id, touched; None if absent or expired."""
        if not session_id:
            return None
        now = self._clock()
        with self._lock:
            found = self._sessions.get(session_id)
            if found is None:
                return None
            if self._expired(found, now):
                del self._sessions[session_id]
                return None
            found.last_seen = now
            return found

    def end(self, session_id: str | None) -> None:
        """Forgets one session; unknown ids are ignored."""
        if session_id:
            with self._lock:
                self._sessions.pop(session_id, None)

    def end_account(self, kind: str, account_id: int, *, keep: str | None = None) -> None:
        """Forgets every session of one account (after deletion or suspension),
        enrolment included; with ``keep``, every one but that session (after a
        passphrase change, say)."""
        self.end_accounts(kind, (account_id,), keep=keep)

    def end_accounts(self, kind: str, account_ids: Iterable[int], *,
                     keep: str | None = None) -> None:
        """Like :meth:`end_account`, for many accounts of one kind at once."""
        ids = frozenset(account_ids)
        with self._lock:
            for key in [k for k, s in self._sessions.items()
                        if account_kind(s.kind) == kind and s.account_id in ids and k != keep]:
                del self._sessions[key]

    def clear(self) -> None:
        """Forgets every session, as a restart does."""
        with self._lock:
            self._sessions.clear()

    def __len__(self) -> int:
        with self._lock:
            return len(self._sessions)

    def _expired(self, session: Session, now: float) -> bool:
        return now - session.last_seen > self._idle or now - session.started > self._lifetime

    def _prune(self, now: float) -> None:
        for key in [k for k, s in self._sessions.items() if self._expired(s, now)]:
            del self._sessions[key]


class SessionRegistry:
    """Every session store of one process, so that work outside a request
    (the retention purge) and one app acting on an account the other app
    serves can end that account's sessions wherever they are."""

    def __init__(self) -> None:
        # Weak: a store lives as long as its app, and tests make many apps.
        self._stores: weakref.WeakSet[SessionStore] = weakref.WeakSet()
        self._lock = threading.Lock()

    def register(self, store: SessionStore) -> None:
        with self._lock:
            self._stores.add(store)

    def end_accounts(self, kind: str, account_ids: Iterable[int]) -> None:
        """Ends every session, in every app of this process, of these accounts."""
        ids = frozenset(account_ids)
        if not ids:
            return
        with self._lock:
            stores = list(self._stores)
        for store in stores:
            store.end_accounts(kind, ids)
