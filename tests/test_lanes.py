"""Pages before forms: a flood of posts never holds every server thread."""

from __future__ import annotations

import contextlib
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable
from typing import Any

import pytest
from flask import Flask

from onion_app.serving import serve
from onion_app.serving.lanes import LanedDispatcher, is_form


class Request:
    def __init__(self, command: str, error: object = None) -> None:
        self.command = command
        self.error = error


class Task:
    """A stand-in for a waitress channel: one request, served when released."""

    def __init__(self, command: str, served: list[str], name: str,
                 release: threading.Event | None = None) -> None:
        self.requests = [Request(command)]
        self.served = served
        self.name = name
        self.started = threading.Event()
        self.release = release

    def service(self) -> None:
        self.started.set()
        if self.release is not None:
            self.release.wait(30)
        self.served.append(self.name)

    def cancel(self) -> None:
        self.served.append(f"cancelled {self.name}")


@pytest.mark.parametrize(("command", "form"), [
    ("GET", False), ("HEAD", False), ("OPTIONS", False), ("get", False),
    ("POST", True), ("PUT", True), ("DELETE", True),
])
def test_what_counts_as_a_form(command: str, form: bool) -> None:
    assert is_form(Task(command, [], "x")) is form


def test_a_request_waitress_refused_counts_as_a_page() -> None:
    task = Task("POST", [], "x")
    task.requests = [Request("POST", error=ValueError("bad"))]
    assert not is_form(task)


def test_a_page_is_served_while_every_form_thread_is_busy() -> None:
    dispatcher = LanedDispatcher(form_threads=1)
    dispatcher.set_thread_count(2)
    served: list[str] = []
    release = threading.Event()
    try:
        first = Task("POST", served, "form 1", release)
        dispatcher.add_task(first)
        assert first.started.wait(30)
        second = Task("POST", served, "form 2", release)
        dispatcher.add_task(second)
        page = Task("GET", served, "page")
        dispatcher.add_task(page)
        # The second thread is free, but not for a form: it takes the page.
        assert page.started.wait(30)
        assert not second.started.is_set()
        release.set()
        assert second.started.wait(30)
    finally:
        release.set()
        dispatcher.shutdown(cancel_pending=False, timeout=30)
    assert served[0] == "page"
    assert sorted(served) == ["form 1", "form 2", "page"]


def test_pages_queued_behind_forms_go_first() -> None:
    dispatcher = LanedDispatcher(form_threads=1)
    dispatcher.set_thread_count(1)
    served: list[str] = []
    release = threading.Event()
    try:
        blocker = Task("GET", served, "blocker", release)
        dispatcher.add_task(blocker)
        assert blocker.started.wait(30)
        forms = [Task("POST", served, name) for name in ("form a", "form b")]
        for form in forms:
            dispatcher.add_task(form)
        dispatcher.add_task(Task("GET", served, "page"))
        release.set()
        assert forms[1].started.wait(30)
    finally:
        release.set()
        dispatcher.shutdown(cancel_pending=False, timeout=30)
    assert served == ["blocker", "page", "form a", "form b"]


def test_shutdown_cancels_queued_forms_too() -> None:
    dispatcher = LanedDispatcher(form_threads=1)
    dispatcher.set_thread_count(1)
    served: list[str] = []
    release = threading.Event()
    blocker = Task("POST", served, "blocker", release)
    dispatcher.add_task(blocker)
    assert blocker.started.wait(30)
    dispatcher.add_task(Task("POST", served, "queued"))

    def release_once_stopping() -> None:
        while not dispatcher.stop_count:
            time.sleep(0.01)
        release.set()

    threading.Thread(target=release_once_stopping).start()
    dispatcher.shutdown(timeout=30)
    assert "cancelled queued" in served
    assert "queued" not in served


def test_form_threads_must_be_positive() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        LanedDispatcher(form_threads=0)


class HoldPosts:
    """WSGI middleware that holds every POST until released."""

    def __init__(self, app: Callable[..., Iterable[bytes]]) -> None:
        self.app = app
        self.arrived = threading.Semaphore(0)
        self.release = threading.Event()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]
                 ) -> Iterable[bytes]:
        if environ["REQUEST_METHOD"] == "POST":
            self.arrived.release()
            self.release.wait(60)
        return self.app(environ, start_response)


def test_landing_page_answers_while_posts_hold_the_form_threads(public_app: Flask) -> None:
    """More posts than the server has threads, all held: the landing page
    still comes back, before any of them is let go."""
    hold = HoldPosts(public_app.wsgi_app)
    public_app.wsgi_app = hold  # type: ignore[method-assign]
    served = serve.start({"public": public_app}, "127.0.0.1", {"public": 0})
    base = served.address("public")

    def post() -> None:
        request = urllib.request.Request(base + "login", data=b"codename=x", method="POST")
        # Refused (no CSRF token): answered, which is all this needs.
        with contextlib.suppress(urllib.error.HTTPError):
            urllib.request.urlopen(request, timeout=60).read()

    posts = [threading.Thread(target=post) for _ in range(serve.THREADS + 4)]
    try:
        for thread in posts:
            thread.start()
        for _ in range(serve.FORM_THREADS):
            assert hold.arrived.acquire(timeout=30)
        landing: list[int] = []
        reader = threading.Thread(target=lambda: landing.append(
            urllib.request.urlopen(base, timeout=60).status))
        reader.start()
        reader.join(30)
        assert landing == [200]
        assert not hold.release.is_set()  # every post was still held meanwhile
    finally:
        hold.release.set()
        for thread in posts:
            thread.join(60)
        served.close()


def test_serving_shortens_the_gil_switch_interval(public_app: Flask) -> None:
    """Pages wait for the GIL at each socket send and database call while form
    threads run; the server shortens the wait (bench/login_flood.py)."""
    before = sys.getswitchinterval()
    sys.setswitchinterval(0.005)
    served = serve.start({"public": public_app}, "127.0.0.1", {"public": 0})
    try:
        assert sys.getswitchinterval() == pytest.approx(serve.SWITCH_INTERVAL)
        assert serve.SWITCH_INTERVAL < 0.005
    finally:
        served.close()
        sys.setswitchinterval(before)
