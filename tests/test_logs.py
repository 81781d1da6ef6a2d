"""Haven's log lines: no times, and nothing written because someone visited."""

from __future__ import annotations

import io
import logging
import re
import sys
import threading
import time
import urllib.request
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import pytest
from flask import Flask

from onion_app.config import Config
from onion_app.serving import logs, serve
from onion_app.web.factory import create_app
from onion_app.web.state import Runtime

A_TIME = re.compile(r"\d{4}-\d{2}-\d{2}|\d{1,2}:\d{2}")


@pytest.fixture
def log() -> Iterator[io.StringIO]:
    """The process's log as ``run.py`` sets it up, captured; restored afterwards."""
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    stream = io.StringIO()
    logs.configure(stream)
    yield stream
    for handler in list(root.handlers):
        root.removeHandler(handler)
    for handler in saved[0]:
        root.addHandler(handler)
    root.setLevel(saved[1])


def test_a_failure_is_logged_without_a_time_or_what_was_sent(log: io.StringIO,
                                                               public_app: Flask) -> None:
    with public_app.test_request_context("/requests/new"):
        try:
            raise RuntimeError("my story about the march")
        except RuntimeError:
            public_app.log_exception(sys.exc_info())
    lines = log.getvalue().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(
        "ERROR haven_public: unexpected RuntimeError in requester.new_request at ")
    assert not A_TIME.search(lines[0])
    assert "march" not in lines[0]


def test_the_apps_keep_no_time_stamping_handler(initialised: Config, runtime: Runtime) -> None:
    """Flask gives an app its own handler, ``[%(asctime)s] ...``, when nothing
    is logging yet, as in a process that builds its apps first."""
    root = logging.getLogger()
    saved = list(root.handlers)
    for handler in saved:
        root.removeHandler(handler)
    try:
        apps = [create_app(role, initialised, runtime) for role in ("public", "staff")]
    finally:
        for handler in saved:
            root.addHandler(handler)
    for app in apps:
        assert app.logger.handlers == []


class Gate:
    """Holds every request until opened, so that waitress's threads are all busy."""

    def __init__(self, app: Callable[..., Iterable[bytes]]) -> None:
        self.app, self.open, self.arrived = app, threading.Event(), threading.Semaphore(0)

    def __call__(self, environ: dict[str, Any], start: Callable[..., Any]) -> Iterable[bytes]:
        self.arrived.release()
        self.open.wait(10)
        return self.app(environ, start)


class Seen(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def _queue_talk(seen: Seen) -> bool:
    return any("queue depth" in record.getMessage() for record in list(seen.records))


def test_busy_threads_leave_no_line_in_the_log(log: io.StringIO, public_app: Flask) -> None:
    """waitress warns ``Task queue depth is N`` whenever a request waits for a
    thread: a line per visit under load, which journald would time-stamp."""
    gate = Gate(public_app.wsgi_app)
    public_app.wsgi_app = gate  # type: ignore[method-assign]
    seen = Seen()
    logging.getLogger("waitress").addHandler(seen)
    served = serve.start({"public": public_app}, "127.0.0.1", {"public": 0})
    base = served.address("public")
    try:
        fetches = [threading.Thread(target=lambda: urllib.request.urlopen(base, timeout=20).read())
                   for _ in range(serve.THREADS + 3)]
        for fetch in fetches:
            fetch.start()
        for _ in range(serve.THREADS):
            assert gate.arrived.acquire(timeout=10)
        # Every thread is held; the requests beyond them wait in waitress's queue.
        deadline = time.monotonic() + 10
        while not _queue_talk(seen) and time.monotonic() < deadline:
            time.sleep(0.01)
        gate.open.set()
        for fetch in fetches:
            fetch.join(20)
    finally:
        served.close()
        logging.getLogger("waitress").removeHandler(seen)
    # waitress did talk about the queue; none of it reached the log.
    assert _queue_talk(seen)
    assert log.getvalue() == ""


@pytest.mark.parametrize("message", [
    "Client disconnected while serving /requests/abc",
    "Exception while serving /requests/abc",
])
def test_waitress_never_logs_a_path(log: io.StringIO, message: str) -> None:
    logger = logging.getLogger("waitress")
    try:
        raise ValueError("what the visitor sent")
    except ValueError:
        logger.exception(message)
    logger.info(message)
    assert "/requests" not in log.getvalue()
    assert "visitor sent" not in log.getvalue()
    assert not A_TIME.search(log.getvalue())


def test_waitress_failures_still_reach_the_log(log: io.StringIO) -> None:
    logging.getLogger("waitress").error("server accept() threw an exception")
    assert log.getvalue() == "ERROR waitress: server accept() threw an exception\n"
