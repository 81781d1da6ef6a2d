"""Proof that an offline applicant holds the private key of the public key they give.

Without it anyone could register a key copied from elsewhere (another
volunteer's, or a requester's from a case page) and be recorded as its owner.
Haven seals a random code to the key as an ordinary bundle; only the holder of
the private key gets it back out, with ``python -m crypto open``, and types it
in. The application waits in this process's memory meanwhile: nothing about an
unproven key reaches the database, and a restart simply asks to apply again.
"""

from __future__ import annotations

import base64
import hmac
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field

from crypto.bundle import Bundle, BundleItem, dump_bundle
from crypto.envelope import seal
from crypto.hybrid import ReaderPublicKey
from onion_app.store.staff import Application

#: What the challenge is sealed with, so that it cannot pass for a request.
CHALLENGE_AD = b"haven/key-check/v1"
#: The bundle's kind, which ``python -m crypto open`` ignores but people see.
CHALLENGE_KIND = "key-check"
#: How long an application waits for its answer.
LIFETIME_SECONDS = 60 * 60
#: Wrong answers before the application is dropped (guessing 160 bits is
#: hopeless anyway; this keeps a typo loop short and the memory bounded).
MAX_ATTEMPTS = 5
#: Applications waiting at once, process-wide: anyone can start one, so the
#: oldest make way rather than memory growing without end.
CAPACITY = 500


def new_code() -> str:
    """160 random bits as base32 in groups of four, easy to copy by eye."""
    text = base64.b32encode(secrets.token_bytes(20)).decode("ascii")
    return "-".join(text[i:i + 4] for i in range(0, len(text), 4))


def challenge_for(public_key: ReaderPublicKey, code: str) -> str:
    """``code`` sealed to ``public_key``, as bundle text for ``python -m crypto open``.

    A hybrid (``haven-pk2``) key gets a hybrid stanza, so the answer shows the
    applicant holds both halves; a ``haven-pk1`` key an X25519 one."""
    envelope = seal(f"{code}\n".encode("ascii"), [public_key], CHALLENGE_AD)
    return dump_bundle(Bundle(CHALLENGE_KIND, (BundleItem(CHALLENGE_AD, envelope),)))


def answers(code: str, typed: str) -> bool:
    """Whether ``typed`` is ``code``, ignoring case, spaces and dashes (people
    paste the whole line, or retype it in their own grouping)."""
    def canonical(text: str) -> bytes:
        kept = "".join(ch for ch in text.upper() if ch not in " \t\r\n-")
        return kept.encode("utf-8")
    return hmac.compare_digest(canonical(code), canonical(typed))


@dataclass
class Pending:
    """An offline application waiting for the proof that its key is the applicant's."""

    application: Application
    code: str
    challenge: str
    started: float
    attempts: int = 0


@dataclass
class PendingProofs:
    """The applications waiting for their proof, by a random token that only
    the applicant's session holds. Thread-safe; the clock is injected for tests."""

    clock: Callable[[], float] = time.monotonic
    _waiting: OrderedDict[str, Pending] = field(default_factory=OrderedDict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self, application: Application, public_key: ReaderPublicKey) -> str:
        """Seals a new challenge to ``public_key`` and keeps ``application``.

        :returns: the token to find it again
        """
        code = new_code()
        pending = Pending(application, code, challenge_for(public_key, code), self.clock())
        token = secrets.token_urlsafe(16)
        with self._lock:
            self._expire()
            while len(self._waiting) >= CAPACITY:
                self._waiting.popitem(last=False)
            self._waiting[token] = pending
        return token

    def get(self, token: str | None) -> Pending | None:
        """The application waiting under ``token``, if it has not expired."""
        with self._lock:
            self._expire()
            return self._waiting.get(token) if token else None

    def answer(self, token: str, typed: str) -> Application | None:
        """Checks an answer. Right: the application, no longer waiting. Wrong:
        None, and after :data:`MAX_ATTEMPTS` the application is dropped."""
        with self._lock:
            pending = self._waiting.get(token)
            if pending is None:
                return None
            if answers(pending.code, typed):
                del self._waiting[token]
                return pending.application
            pending.attempts += 1
            if pending.attempts >= MAX_ATTEMPTS:
                del self._waiting[token]
            return None

    def drop(self, token: str | None) -> None:
        with self._lock:
            self._waiting.pop(token or "", None)

    def _expire(self) -> None:
        # Oldest first: insertion order is start order.
        cutoff = self.clock() - LIFETIME_SECONDS
        while self._waiting:
            token, pending = next(iter(self._waiting.items()))
            if pending.started > cutoff:
                break
            del self._waiting[token]
