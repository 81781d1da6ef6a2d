"""Files arriving with a form: read from memory, cleaned under a bound, held
while their sender chooses.

Both roles take files the same way (a request, a requester's reply, a
volunteer's reply), so the steps live here: :func:`receive` turns a form's
files into what the view sends, or into what the page must say. The bodies
themselves never touch the disk: waitress keeps them in memory
(``serving/buffers.py``) and the app's request class gives each file part a
``BytesIO`` (``web/factory.py``).

When cleaning fails, the files wait in this process's memory, under a random
token tied to the account that sent them, for at most :data:`HOLD_SECONDS`,
while the sender chooses between sending without them and sending the
originals; at most :data:`HOLD_LIMIT` such sets are held, the oldest dropped.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import quote

from flask import Flask, Response, current_app, request

from crypto.attachment import Attachment
from onion_app.config import Config
from onion_app.domain import attachments, cleaning

# Where the server leaves a page the means to give its turn back early
# (serving/turns.py); absent when the page has no turn.
GIVE_BACK_TURN = "haven.give_back_turn"
HOLD_SECONDS = 15 * 60
HOLD_LIMIT = 32
_FIELD = "files"


@dataclass(frozen=True)
class Outcome:
    """What a form's files came to.

    ``files`` is what to seal, when ``ready``; otherwise the page says why
    (``refused``, ``failed`` with a ``token`` to choose with, ``expired`` or
    ``busy``) and keeps everything typed.
    """

    files: list[Attachment] = field(default_factory=list, repr=False)
    refused: list[attachments.Refusal] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    token: str = ""
    expired: bool = False
    busy: bool = False

    @property
    def ready(self) -> bool:
        return not (self.refused or self.failed or self.expired or self.busy)


class Uploads:
    """One app's bound on concurrent cleaning, and the files held for a choice."""

    def __init__(self, config: Config, clock: Callable[[], float] = time.monotonic) -> None:
        self.config = config
        self.limits = cleaning.Limits(
            memory_bytes=config.cleaner_memory_mib * 1024 * 1024,
            cpu_seconds=config.cleaner_seconds,
            wall_seconds=config.cleaner_seconds * 2,
            tmpfs_bytes=max(8 * config.attachment_max_bytes, 64 * 1024 * 1024),
            output_bytes=4 * config.attachment_max_bytes)
        self._cleaners = threading.BoundedSemaphore(config.cleaner_concurrency)
        self._held: OrderedDict[str, tuple[str, float, attachments.Prepared]] = OrderedDict()
        self._lock = threading.Lock()
        self._clock = clock

    def prepare(self, accepted: list[attachments.Accepted],
                keep_originals: bool) -> attachments.Prepared | None:
        """Cleans under the bound; None when every cleaner is busy (refused
        fast: a waiting thread would be one fewer serving cheap pages)."""
        if not self._cleaners.acquire(blocking=False):
            return None
        try:
            return attachments.prepare(accepted, keep_originals, self.limits)
        finally:
            self._cleaners.release()

    def hold(self, owner: str, prepared: attachments.Prepared) -> str:
        token = secrets.token_urlsafe(16)
        with self._lock:
            self._expire()
            self._held[token] = (owner, self._clock(), prepared)
            while len(self._held) > HOLD_LIMIT:
                self._held.popitem(last=False)
        return token

    def take(self, owner: str, token: str) -> attachments.Prepared | None:
        """The files held under ``token`` for ``owner``, once; None if gone."""
        with self._lock:
            self._expire()
            found = self._held.get(token)
            if found is None or not secrets.compare_digest(found[0], owner):
                return None
            del self._held[token]
            return found[2]

    def _expire(self) -> None:
        now = self._clock()
        for token in [t for t, (_, at, _) in self._held.items() if now - at > HOLD_SECONDS]:
            del self._held[token]


def init_app(app: Flask, config: Config) -> None:
    app.extensions["haven_uploads"] = Uploads(config)


def current() -> Uploads:
    uploads: Uploads = current_app.extensions["haven_uploads"]
    return uploads


def receive(owner: str) -> Outcome:
    """Reads this form's files and turns them into what to send.

    The form's fields: ``files`` (the file input), ``keep_original`` (a
    checkbox), and, after a failed cleaning, ``held`` (the token) and
    ``on_failure`` (``original`` to send the uncleaned files as they are;
    anything else sends without them).
    """
    uploads = current()
    token = request.form.get("held", "")
    if token:
        prepared = uploads.take(owner, token)
        if prepared is None:
            return Outcome(expired=True)
        files = list(prepared.ready)
        if request.form.get("on_failure") == "original":
            files += attachments.originals(prepared.failed)
        return Outcome(files=files)
    config = uploads.config
    received = [attachments.Upload(part.filename or "",
                                   part.stream.read(config.attachment_max_bytes + 1))
                for part in request.files.getlist(_FIELD)]
    accepted, refused = attachments.check(received, config.attachments_per_message,
                                          config.attachment_max_bytes)
    if refused:
        return Outcome(refused=refused)
    if not accepted:
        return Outcome()
    prepared = uploads.prepare(accepted, request.form.get("keep_original") == "yes")
    if prepared is None:
        return Outcome(busy=True)
    if prepared.failed:
        return Outcome(failed=[attachments.safe_name(f.upload.name, f.kind)
                               for f in prepared.failed],
                       token=uploads.hold(owner, prepared))
    return Outcome(files=list(prepared.ready))


def owner_of(kind: str, account_id: int, account_ref: str) -> str:
    """Whose held files these are: the account, and what ties a session to it for good."""
    return f"{kind}:{account_id}:{account_ref}"


def give_back_turn() -> None:
    """Before reading and opening a file: other pages need not wait for it.

    A file of several MiB takes tens of milliseconds to read and open, and
    libsodium does it without the GIL, beside the other threads' pages.
    """
    give_back = request.environ.get(GIVE_BACK_TURN)
    if give_back is not None:
        give_back()


def download(attachment: Attachment) -> Response:
    """A file as a download: never shown in the browser, never sniffed, and
    sandboxed should a browser render it anyway (web/security.py adds
    ``sandbox`` to the policy of every ``attachment`` response)."""
    response = Response(attachment.data, mimetype="application/octet-stream")
    ascii_name = "".join(c if c.isascii() and c.isprintable() and c not in '"\\;' else "_"
                         for c in attachment.name)
    response.headers["Content-Disposition"] = (
        f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(attachment.name)}")
    return response
