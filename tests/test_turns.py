"""Pages take turns, forms do not, and a page held up in its turn holds nobody up."""

from __future__ import annotations

import threading
import urllib.request
from collections.abc import Callable, Iterable
from typing import Any

from flask import Flask

from onion_app.serving import serve
from onion_app.serving.turns import TakingTurns, Turns


def _in_turn(turns: Turns, inside: list[bool], entered: threading.Event,
             leave: threading.Event) -> None:
    with turns.turn() as had:
        inside.append(had)
        entered.set()
        leave.wait(30)


def test_one_page_at_a_time() -> None:
    turns = Turns(wait=60)  # nobody goes round within this test
    first_in, second_in, leave_first, leave_second = (threading.Event() for _ in range(4))
    had: list[bool] = []
    first = threading.Thread(target=_in_turn, args=(turns, had, first_in, leave_first))
    second = threading.Thread(target=_in_turn, args=(turns, had, second_in, leave_second))
    first.start()
    assert first_in.wait(30)
    second.start()
    # The second waits while the first has the turn, however long it waits here.
    assert not second_in.wait(0.3)
    leave_first.set()
    assert second_in.wait(30)
    leave_second.set()
    first.join(30)
    second.join(30)
    assert had == [True, True]


def test_a_page_held_up_in_its_turn_is_gone_round() -> None:
    turns = Turns(wait=0.05)
    held_in, leave = threading.Event(), threading.Event()
    had: list[bool] = []
    holder = threading.Thread(target=_in_turn, args=(turns, had, held_in, leave))
    holder.start()
    try:
        assert held_in.wait(30)
        with turns.turn() as mine:  # waits its 0.05 s, then goes round
            assert mine is False
        # Held up now: the next page goes round at once, without waiting its
        # turn's wait (60 s would outlast the join below).
        turns.wait = 60
        went_round: list[bool] = []
        gone = threading.Event()
        gone.set()  # it leaves as soon as it is in
        later = threading.Thread(target=_in_turn,
                                 args=(turns, went_round, threading.Event(), gone))
        later.start()
        later.join(10)
        assert went_round == [False]
        assert not later.is_alive()
    finally:
        leave.set()
        holder.join(30)
    # Given back: turns again.
    with turns.turn() as mine:
        assert mine is True


def _app(calls: list[str]) -> Callable[..., Iterable[bytes]]:
    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        calls.append(environ["REQUEST_METHOD"])
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"ok"]
    return app


def _call(app: TakingTurns, method: str) -> None:
    list(app({"REQUEST_METHOD": method}, lambda *_: None))


def test_pages_take_turns_and_forms_do_not() -> None:
    turns = Turns(wait=60)
    calls: list[str] = []
    app = TakingTurns(_app(calls), turns)
    with turns.turn():  # someone else's page has the turn
        form = threading.Thread(target=_call, args=(app, "POST"))
        form.start()
        form.join(30)
        assert calls == ["POST"]  # served while the turn was taken
        page = threading.Thread(target=_call, args=(app, "GET"))
        page.start()
        page.join(0.3)
        assert page.is_alive()  # waiting for the turn
    page.join(30)
    assert calls == ["POST", "GET"]


class Blocking:
    """WSGI middleware: ``/blocked`` waits, in its turn, until released."""

    def __init__(self, app: Callable[..., Iterable[bytes]]) -> None:
        self.app = app
        self.arrived = threading.Event()
        self.release = threading.Event()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]
                 ) -> Iterable[bytes]:
        if environ["PATH_INFO"] == "/blocked":
            self.arrived.set()
            self.release.wait(60)
            environ["PATH_INFO"] = "/"
        return self.app(environ, start_response)


def test_a_served_page_blocked_in_its_turn_holds_no_other_page_up(public_app: Flask) -> None:
    blocking = Blocking(public_app.wsgi_app)
    public_app.wsgi_app = blocking  # type: ignore[method-assign]
    running = serve.start({"public": public_app}, "127.0.0.1", {"public": 0})
    try:
        got: list[int] = []
        blocked = threading.Thread(target=lambda: got.append(urllib.request.urlopen(
            running.address("public") + "blocked", timeout=60).status))
        blocked.start()
        assert blocking.arrived.wait(30)
        # The blocked page keeps its turn; these go round it, one after another.
        for _ in range(3):
            with urllib.request.urlopen(running.address("public"), timeout=30) as answer:
                assert answer.status == 200
        assert not got
        blocking.release.set()
        blocked.join(60)
        assert got == [200]
    finally:
        blocking.release.set()
        running.close()
