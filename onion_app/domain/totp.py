"""Time-based one-time codes for staff logins, and their QR code as a PNG.

pyotp does the RFC 6238 arithmetic (a well-kept library, better than ours);
segno draws the QR code as a PNG with no imaging library, since SVG is hidden
by Tor Browser at Safest. A code is accepted once: the last step used per
account is kept in memory (a step number is a time, and the database keeps
no times), which also means a restart forgets it, as it forgets sessions.
"""

from __future__ import annotations

import io
import threading
import time
from collections.abc import Callable

import pyotp
import segno

ISSUER = "Haven staff"


def new_secret() -> str:
    """A fresh base32 TOTP secret (160 bits)."""
    return pyotp.random_base32(32)


def provisioning_uri(secret: str, handle: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=handle, issuer_name=ISSUER)


def qr_png(secret: str, handle: str) -> bytes:
    """The enrolment QR code as PNG bytes."""
    buffer = io.BytesIO()
    segno.make(provisioning_uri(secret, handle), error="m").save(
        buffer, kind="png", scale=6, border=4)
    return buffer.getvalue()


class CodeChecker:
    """Checks codes, allowing one step of clock drift, and refuses a code twice."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._last_step: dict[int, int] = {}
        self._lock = threading.Lock()

    def check(self, account_id: int, secret: str | None, code: str) -> bool:
        """Whether ``code`` is valid now and newer than the last one this account
        used; never for an account with no secret."""
        code = "".join(code.split())
        if not secret or not (code.isdigit() and len(code) == 6):
            return False
        totp = pyotp.TOTP(secret)
        now = self._clock()
        for drift in (0, -1, 1):
            at = now + drift * totp.interval
            if totp.verify(code, for_time=at, valid_window=0):
                step = int(at // totp.interval)
                with self._lock:
                    if step <= self._last_step.get(account_id, -1):
                        return False
                    self._last_step[account_id] = step
                return True
        return False
