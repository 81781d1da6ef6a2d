"""The web side of files: the bound on cleaners, files held for a choice, and
the download response."""

from __future__ import annotations

from pathlib import Path

from flask import Flask

from crypto.attachment import Attachment
from onion_app.domain import attachments, file_types
from onion_app.web import uploads
from tests.conftest import make_config

TEXT = attachments.Accepted(attachments.Upload("n.txt", b"a note\n"), file_types.TEXT)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def store(tmp_path: Path, clock: Clock | None = None, **environ: str) -> uploads.Uploads:
    return uploads.Uploads(make_config(tmp_path, **environ), clock or Clock())


def prepared() -> attachments.Prepared:
    return attachments.Prepared((Attachment(0, "a.txt", "text/plain", b"a"),), (TEXT,))


def test_held_files_go_to_their_owner_once(tmp_path: Path) -> None:
    held = store(tmp_path)
    token = held.hold("requester:1:ab", prepared())
    assert held.take("requester:2:cd", token) is None  # someone else's: nothing
    assert held.take("requester:1:ab", "not-a-token") is None
    assert held.take("requester:1:ab", token) == prepared()
    assert held.take("requester:1:ab", token) is None  # once


def test_held_files_expire_and_are_bounded(tmp_path: Path) -> None:
    clock = Clock()
    held = store(tmp_path, clock)
    old = held.hold("a", prepared())
    clock.now += uploads.HOLD_SECONDS + 1
    assert held.take("a", old) is None
    tokens = [held.hold("a", prepared()) for _ in range(uploads.HOLD_LIMIT + 3)]
    assert [held.take("a", t) is not None for t in tokens[:3]] == [False] * 3  # oldest dropped
    assert held.take("a", tokens[-1]) is not None


def test_cleaning_is_refused_fast_when_every_cleaner_is_busy(tmp_path: Path) -> None:
    busy = store(tmp_path, HAVEN_CLEANER_CONCURRENCY="1")
    assert busy._cleaners.acquire(blocking=False)  # one upload being cleaned now
    try:
        assert busy.prepare([TEXT], keep_originals=False) is None
    finally:
        busy._cleaners.release()
    done = busy.prepare([TEXT], keep_originals=True)
    assert done is not None
    assert [(a.note, a.data) for a in done.ready] == [(0, b"a note\n"), (1, b"a note\n")]


def test_a_download_is_never_rendered() -> None:
    with Flask("t").app_context():
        response = uploads.download(Attachment(0, 'احضاریه "1";.pdf', "application/pdf", b"%PDF"))
    assert response.mimetype == "application/octet-stream"
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith('attachment; filename="_______ _1__.pdf"; filename*=UTF-8\'\'')
    assert "%D8%A7%D8%AD%D8%B6%D8%A7%D8%B1%DB%8C%D9%87" in disposition
    assert response.get_data() == b"%PDF"
