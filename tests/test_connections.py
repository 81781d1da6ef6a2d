"""waitress's connections on a real loopback server: idle ones give way, no
hang on ``Expect: 100-continue``, and a clean stop."""

from __future__ import annotations

import contextlib
import logging
import socket
import threading
import time
import urllib.request
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import pytest
from flask import Flask
from waitress.adjustments import Adjustments

from onion_app.serving import connections, serve
from onion_app.serving.serve import Served


@pytest.fixture
def served(public_app: Flask) -> Iterator[Served]:
    running = serve.start({"public": public_app}, "127.0.0.1", {"public": 0})
    yield running
    running.close()


def port_of(served: Served) -> int:
    return int(served.servers["public"].effective_port)


def answer(sock: socket.socket) -> bytes:
    """Reads one whole HTTP answer (headers and a Content-Length body)."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            return data
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = next((int(line.split(b":")[1]) for line in head.split(b"\r\n")
                   if line.lower().startswith(b"content-length:")), 0)
    while len(body) < length:
        chunk = sock.recv(65536)
        if not chunk:
            break
        body += chunk
    return head + b"\r\n\r\n" + body


def test_the_settings_are_haven_s(served: Served) -> None:
    adj = served.servers["public"].adj
    assert adj.connection_limit == connections.CONNECTION_LIMIT
    assert adj.channel_timeout == connections.CHANNEL_TIMEOUT
    assert adj.cleanup_interval == connections.CLEANUP_INTERVAL
    assert adj.asyncore_use_poll


@pytest.mark.parametrize("request_head", [
    b"GET / HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n\r\n",
    b"POST /login HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 0\r\n\r\n",
    # A body too large to take: refused at once, not hung waiting for it.
    b"POST /login HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n"
    b"Content-Length: 999999999\r\n\r\n",
])
def test_expect_100_continue_without_a_body_is_answered(served: Served,
                                                        request_head: bytes) -> None:
    with socket.create_connection(("127.0.0.1", port_of(served)), timeout=30) as sock:
        sock.sendall(request_head)
        reply = answer(sock)
    status = reply.split(b"\r\n", 1)[0]
    assert status.startswith(b"HTTP/1.1 "), reply[:200]
    assert b" 100 " not in status  # a final answer, not an invitation to send a body


def test_expect_100_continue_with_a_body_still_gets_its_invitation(served: Served) -> None:
    body = b"codename=x"
    with socket.create_connection(("127.0.0.1", port_of(served)), timeout=30) as sock:
        sock.sendall(b"POST /login HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n"
                     b"Content-Type: application/x-www-form-urlencoded\r\n"
                     b"Content-Length: %d\r\n\r\n" % len(body))
        assert sock.recv(64).startswith(b"HTTP/1.1 100 Continue")
        sock.sendall(body)
        reply = answer(sock)
    assert reply.startswith(b"HTTP/1.1 400"), reply[:200]  # no CSRF token: refused, answered


def test_idle_connections_give_way_to_a_new_visitor(public_app: Flask,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """More idle and half-sent connections than the limit: a new visitor still
    gets the landing page, and the connections closed are the idle ones."""
    monkeypatch.setattr(connections, "CONNECTION_LIMIT", 20)
    monkeypatch.setattr(connections, "SHED_AFTER_SECONDS", 0.2)
    running = serve.start({"public": public_app}, "127.0.0.1", {"public": 0})
    idle: list[socket.socket] = []
    try:
        for number in range(40):
            sock = socket.create_connection(("127.0.0.1", port_of(running)), timeout=30)
            if number % 2:
                sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nUser-Agent: slow")
            idle.append(sock)
        time.sleep(0.5)  # every idle connection is now older than SHED_AFTER_SECONDS
        page = urllib.request.urlopen(running.address("public"), timeout=30)
        assert page.status == 200
        closed = 0
        for sock in idle:
            sock.settimeout(0.2)
            with contextlib.suppress(TimeoutError):
                closed += sock.recv(1) == b""
        assert closed >= 1
    finally:
        for sock in idle:
            sock.close()
        running.close()


class Channel:
    """What shedding reads of a waitress channel."""

    def __init__(self, requests: list[object], outbuf: int, age: float) -> None:
        self.requests = requests
        self.total_outbufs_len = outbuf
        self.last_activity = 1000.0 - age
        self.will_close = False


def test_shedding_picks_the_longest_idle_and_leaves_busy_ones_alone() -> None:
    serving = Channel([object()], 0, 100)
    sending = Channel([], 10, 100)
    closing = Channel([], 0, 100)
    closing.will_close = True
    fresh = Channel([], 0, connections.SHED_AFTER_SECONDS / 2)
    old, older = Channel([], 0, 50), Channel([], 0, 100)
    channels = [serving, sending, closing, fresh, old, older]
    limit = 100
    # At the limit: wants SHED_HEADROOM closed, and only two may be.
    assert connections.to_shed(channels, limit, limit, 1000.0) == [older, old]
    # Exactly as far below the limit as the headroom: nothing to do.
    assert connections.to_shed(channels, limit - connections.SHED_HEADROOM, limit,
                               1000.0) == []
    # Wanting one: the one silent longest.
    assert connections.to_shed(channels, limit - connections.SHED_HEADROOM + 1, limit,
                               1000.0) == [older]


class Slow:
    """WSGI middleware: a request to /slow waits until released."""

    def __init__(self, app: Callable[..., Iterable[bytes]]) -> None:
        self.app = app
        self.arrived = threading.Event()
        self.release = threading.Event()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]
                 ) -> Iterable[bytes]:
        if environ["PATH_INFO"] == "/slow":
            self.arrived.set()
            self.release.wait(60)
            environ["PATH_INFO"] = "/"
        return self.app(environ, start_response)


def test_stopping_mid_request_logs_nothing(public_app: Flask,
                                           caplog: pytest.LogCaptureFixture) -> None:
    """A request outlasting the stop's wait finishes later without waitress
    logging an error (``Bad file descriptor``) or a thread dying."""
    slow = Slow(public_app.wsgi_app)
    public_app.wsgi_app = slow  # type: ignore[method-assign]
    running = serve.start({"public": public_app}, "127.0.0.1", {"public": 0})
    client = threading.Thread(target=_fetch_quietly, args=(running.address("public") + "slow",))
    client.start()
    assert slow.arrived.wait(30)
    with caplog.at_level(logging.INFO):
        running.close(wait=0)
        assert running.servers["public"].task_dispatcher.threads  # one still serving
        slow.release.set()
        client.join(60)
        _wait_for_workers(running)
    errors = [record for record in caplog.records if record.levelno >= logging.ERROR]
    assert errors == []
    assert "Bad file descriptor" not in caplog.text
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port_of(running)), timeout=5)


def test_a_request_finished_while_stopping_gets_its_answer(public_app: Flask) -> None:
    slow = Slow(public_app.wsgi_app)
    public_app.wsgi_app = slow  # type: ignore[method-assign]
    running = serve.start({"public": public_app}, "127.0.0.1", {"public": 0})
    got: list[int] = []
    client = threading.Thread(target=lambda: got.append(
        urllib.request.urlopen(running.address("public") + "slow", timeout=60).status))
    client.start()
    assert slow.arrived.wait(30)
    stopping = threading.Thread(target=running.close, kwargs={"wait": 30})
    stopping.start()
    # Stopping first stops accepting; the request in hand is then let finish.
    _wait_until_refused(port_of(running))
    slow.release.set()
    client.join(60)
    stopping.join(60)
    assert got == [200]


def _fetch_quietly(url: str) -> None:
    with contextlib.suppress(OSError):  # the server stopped before answering: expected here
        urllib.request.urlopen(url, timeout=60).read()


def _wait_for_workers(running: Served) -> None:
    """Until the late worker thread has finished its request."""
    for thread in threading.enumerate():
        if thread.name.startswith("waitress-"):
            thread.join(30)


def _wait_until_refused(port: int) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=5).close()
        except OSError:
            return
        time.sleep(0.05)
    raise AssertionError("the server kept accepting while stopping")


class _Server:
    """What a waitress channel needs of its server here."""

    def __init__(self) -> None:
        self.active_channels: dict[int, object] = {}
        self.woken = 0

    def pull_trigger(self) -> None:
        self.woken += 1


def _holding(lock: Any, held: threading.Event, done: threading.Event) -> None:
    with lock:
        held.set()
        done.wait(10)


def test_a_connection_whose_writer_holds_the_lock_is_not_polled_as_writable() -> None:
    ours, theirs = socket.socketpair()
    ours.setblocking(False)
    with contextlib.suppress(BlockingIOError):
        while True:  # the client reads nothing: what follows stays unsent
            ours.send(b"\0" * 65536)
    server = _Server()
    channel = connections.HavenChannel(server, ours, ("local", 0), Adjustments(), map={})
    try:
        channel.requests = [object()]  # a thread is serving it
        channel.write_soon(b"a page")
        assert channel.total_outbufs_len == len(b"a page")
        # The writer woke the loop for what it left, under the lock
        # (waitress) and again once it had let it go (Haven).
        assert server.woken == 2
        # The lock free, the loop can send: writable, as waitress has it.
        assert channel.writable()
        held, done = threading.Event(), threading.Event()
        writer = threading.Thread(target=_holding, args=(channel.outbuf_lock, held, done))
        writer.start()
        try:
            assert held.wait(10)
            # The writing thread holds it: the loop could only try it and spin.
            assert not channel.writable()
            channel.will_close = True  # closing is the loop's, lock or not
            assert channel.writable()
            channel.will_close = False
            # Past the watermark the writer waits for the loop, letting the lock go.
            channel.total_outbufs_len += channel.adj.outbuf_high_watermark
            assert channel.writable()
            channel.total_outbufs_len -= channel.adj.outbuf_high_watermark
            channel.requests = []  # served: the loop sends without the lock
            assert channel.writable()
        finally:
            done.set()
            writer.join()
    finally:
        channel.close()
        theirs.close()
