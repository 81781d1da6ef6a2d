"""Pages take turns, forms do not, and a page held up in its turn holds nobody up."""

from __future__ import annotations

import threading
import urllib.request
from collections.abc import Callable, Iterable
from typing import Any

from flask import Flask

from onion_app.serving import serve
from onion_app.serving.turns import TakingTurns, Turns
from onion_app.web.uploads import GIVE_BACK_TURN


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


def test_a_turn_marked_held_up_as_it_was_given_back_is_taken_again() -> None:
    """A wait that ran out just as the holder gave the turn back marks it held
    up with nobody holding it; the next page takes it rather than go round
    for ever."""
    turns = Turns(wait=60)
    turns._held_up = True  # what that interleaving leaves
    with turns.turn() as mine:
        assert mine is True
    with turns.turn() as mine:  # the mark went with the turn
        assert mine is True


def test_a_page_can_give_its_turn_back_early() -> None:
    turns = Turns(wait=60)
    others: list[bool] = []

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        environ[GIVE_BACK_TURN]()
        other = threading.Thread(target=lambda: others.append(turns.take()))
        other.start()
        other.join(10)
        environ[GIVE_BACK_TURN]()  # once only: this does nothing
        turns.give_back()  # the other thread's, given back for it
        start_response("200 OK", [])
        return [b"ok"]

    _call(TakingTurns(app, turns), "GET")
    assert others == [True]  # it had the turn while the page was still running
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
        self.in_turn: list[bool] = []

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]
                 ) -> Iterable[bytes]:
        self.in_turn.append(GIVE_BACK_TURN in environ)
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
        with urllib.request.urlopen(running.address("public"), timeout=30) as answer:
            assert answer.status == 200
        # The blocked page had the turn, the three went round it, and once it
        # was given back the next page took it again.
        assert blocking.in_turn == [True, False, False, False, True]
    finally:
        blocking.release.set()
        running.close()
