"""Requests per second of Haven's cheap pages, beside a bare Flask app.

A server process runs Haven's two apps and, on the same waitress settings
(Haven's own ``serving.serve.start``), a bare Flask app that answers each
path with the exact bytes Haven sent for it. wrk then loads each server in
turn, Haven and bare interleaved, several rounds, so both see the same noisy
machine; the ratio is the median over rounds of Haven's req/s over bare's.

    .venv/bin/python bench/http_bench.py [--seconds 2] [--rounds 7] [--connections 32]

Needs wrk (``make bench`` installs it); without it, falls back to a bounded
Python load generator, which measures both sides the same way but saturates
sooner.

``--floor`` measures only the signed-in page, four ways, each in a server of
its own beside its own bare app: as served; with the view's data (the count,
the list, the titles opened) replaced by what it found at start; with its
rendering replaced by the page's bytes; and with both. What is left with
both stand-ins is what Flask, Haven's hooks and the session cost, the part
of the page no view or template can remove. Stand-ins exist only in this
script's server, for this measurement.

    .venv/bin/python bench/http_bench.py --floor [--rounds 5]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import re
import shutil
import statistics
import subprocess
import sys
import threading
import time
import types
from collections.abc import Callable, Iterator
from http.client import HTTPConnection
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import havenbench as hb

IN_BENCH_SUITE = True

# (row name, app, path, needs the signed-in requester, goal ratio, goal req/s)
TARGETS = [
    ("public /", "public", "/", False, 0.6, 1000.0),
    ("public /login", "public", "/login", False, 0.6, None),
    ("signed-in /requests (3 requests)", "public", "/requests", True, 0.4, None),
    ("staff /login", "staff", "/login", False, 0.6, None),
]


# The parts of the signed-in page --floor replaces, and in which order it
# measures them: none, each alone, both.
STAND_INS = ("data", "rendering")
FLOOR_WAYS: list[tuple[str, ...]] = [(), ("data",), ("rendering",), ("data", "rendering")]


def serve(stand_ins: tuple[str, ...] = ()) -> int:
    """The server process: prints the addresses and cookie as one JSON line,
    serves until stdin closes."""
    from flask import Flask

    # 32 connections on 8 threads queue by design; waitress would say so each time.
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)

    from onion_app import create_app
    from onion_app.domain import sealing
    from onion_app.domain.matching import Policy
    from onion_app.serving import serve as serving
    from onion_app.web.state import Runtime

    # As `haven` serves: core dumps refused, memory locked where the machine
    # lets it, and then SQLCipher's own locking off.
    locked, status = hb.guard_as_served()
    with hb.instance() as config:
        runtime = Runtime.for_config(config, memory_locked=locked)
        apps = {"public": create_app("public", config, runtime),
                "staff": create_app("staff", config, runtime)}
        with runtime.database.connect() as conn:
            requester_id, keys = hb.add_requester(conn)
            hb.add_volunteers(conn, 20, rng=hb.random.Random(3))
            for number in range(3):
                sealing.submit_request(conn, requester_id, keys, sealing.NewRequest(
                    sealing.RequestText(f"Request {number}", "A story. " * 80, "Help."),
                    frozenset(hb.SKILL_CODES[:2]), frozenset(hb.LANGUAGE_CODES[:2]),
                    "unsaid", "normal"), Policy.of(config))
            conn.commit()
        client = hb.signed_in(apps["public"], "requester", requester_id, requester_keys=keys,
                              account_ref=bytes(keys.public_key).hex())
        bare = {role: Flask(f"bare_{role}") for role in apps}
        for _name, role, path, signed, _goal, _floor in TARGETS:
            page = hb.ok((client if signed else apps[role].test_client()).get(path), path)
            _bare_route(bare[role], path, page.get_data())
        _stand_in(client, stand_ins)
        # The cookie as a browser holds it after its first page, CSRF secret
        # included; the one from before would make every answer set a new one.
        cookie = hb.session_cookie(client, apps["public"])
        # serve.start reads the waitress settings from the app's configuration;
        # the bare apps borrow Haven's, so both sides run on identical settings.
        for app in bare.values():
            app.extensions["haven"] = types.SimpleNamespace(config=config)
        served = serving.start({**apps, **{f"bare_{r}": a for r, a in bare.items()}},
                               "127.0.0.1", ports=dict.fromkeys(
                                   [*apps, *(f"bare_{r}" for r in bare)], 0))
        addresses = {role: served.address(role) for role in served.servers}
        print(json.dumps({"addresses": addresses, "cookie": cookie, "memory": status}),
              flush=True)
        try:
            sys.stdin.read()
        finally:
            served.close()
    return 0


def _stand_in(client: Any, stand_ins: tuple[str, ...]) -> None:
    """Replaces parts of the signed-in page's view (``--floor``).

    ``data``: the count, the list and the titles opened are what the view
    found on a first page, returned without a query or a decryption.
    ``rendering``: ``render_template`` returns the page's bytes as rendered
    on a first page. Everything else (the WSGI wrappers, every hook, the
    session, the sign-in check and the account check) runs as served.
    """
    from onion_app.domain import sealing
    from onion_app.requester import views
    from onion_app.store import requests as rows

    if not stand_ins:
        return
    found: dict[str, Any] = {}
    # (module, name) of each part of the view's data; the view calls them so.
    data = {"count": (rows, "count_requests_of"), "list": (rows, "requests_of"),
            "open": (sealing, "open_requests")}
    real = {key: getattr(module, name) for key, (module, name) in data.items()}

    def keeping(key: str) -> Callable[..., Any]:
        def kept(*args: Any, **kwargs: Any) -> Any:
            found[key] = real[key](*args, **kwargs)
            return found[key]
        return kept

    def as_found(key: str) -> Callable[..., Any]:
        return lambda *_args, **_kwargs: found[key]

    for key, (module, name) in data.items():
        setattr(module, name, keeping(key))
    text = hb.ok(client.get("/requests"), "/requests").get_data(as_text=True)
    for key, (module, name) in data.items():
        setattr(module, name, as_found(key) if "data" in stand_ins else real[key])
    if "rendering" in stand_ins:
        setattr(views, "render_template", lambda *_a, **_k: text)  # noqa: B010  (a stand-in)


def _bare_route(app: object, path: str, body: bytes) -> None:
    def page() -> tuple[bytes, int, dict[str, str]]:
        return body, 200, {"Content-Type": "text/html; charset=utf-8"}

    app.add_url_rule(path, endpoint=path, view_func=page)  # type: ignore[attr-defined]


def _server_cpu_seconds(pid: int) -> float:
    """User and system CPU time the server process has used (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _with_cpu(pid: int, per_request_ms: list[float], load: Callable[..., float],
              url: str, cookie: str | None, seconds: float, connections: int) -> float:
    """``load``'s req/s; the server's CPU time per request it served goes
    in ``per_request_ms``. Only one of the server's apps is loaded at a time,
    so the process's CPU time is that app's (and its waitress's)."""
    before = _server_cpu_seconds(pid)
    rate = load(url, cookie, seconds, connections)
    served = rate * seconds  # both load generators run for ``seconds``
    per_request_ms.append((_server_cpu_seconds(pid) - before) / served * 1000)
    return rate


def load_wrk(url: str, cookie: str | None, seconds: float, connections: int) -> float:
    # A long timeout: on a loaded machine a slow answer is a slow answer, not an error.
    command = ["wrk", "-t2", f"-c{connections}", f"-d{max(int(seconds), 1)}s", "--latency",
               "--timeout", "20s"]
    if cookie:
        command += ["-H", f"Cookie: {cookie}"]
    out = subprocess.run([*command, url], capture_output=True, text=True, check=True,  # noqa: S603  (wrk, fixed arguments)
                         timeout=seconds + 30).stdout
    found = re.search(r"Requests/sec:\s*([\d.]+)", out)
    if found is None or "Non-2xx" in out:
        raise SystemExit(f"wrk on {url} went wrong:\n{out}")
    if "Socket errors" in out:
        print(f"  (wrk on {url}: {out.split('Socket errors:')[1].splitlines()[0].strip()})")
    return float(found.group(1))


def load_python(url: str, cookie: str | None, seconds: float, connections: int) -> float:
    """A bounded keep-alive load generator: ``connections`` threads for ``seconds``."""
    host_port = url.split("//", 1)[1].split("/", 1)[0]
    path = "/" + url.split("//", 1)[1].split("/", 1)[1]
    host, port = host_port.rsplit(":", 1)
    counts = [0] * connections
    failures: list[int] = []
    stop = time.monotonic() + seconds

    def worker(slot: int) -> None:
        conn = HTTPConnection(host, int(port), timeout=10)
        headers = {"Cookie": cookie} if cookie else {}
        while time.monotonic() < stop:
            conn.request("GET", path, headers=headers)
            response = conn.getresponse()
            response.read()
            if response.status != 200:
                failures.append(response.status)
            counts[slot] += 1
        conn.close()

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(connections)]
    start = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if failures:
        raise SystemExit(f"{url} answered {failures[0]}")
    return sum(counts) / (time.monotonic() - start)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--stand-in", action="append", choices=STAND_INS, default=[],
                        help=argparse.SUPPRESS)
    parser.add_argument("--floor", action="store_true",
                        help="the signed-in page only, with parts of its view replaced")
    # Short runs, many rounds: this machine's speed changes from one few
    # seconds to the next (the same page measured 0.4x and 1.7x a minute
    # apart), and a median over finely interleaved pairs rides that out.
    parser.add_argument("--seconds", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--connections", type=int, default=32)
    args = parser.parse_args()
    if args.serve:
        return serve(tuple(args.stand_in))
    load = load_wrk if shutil.which("wrk") else load_python
    print(f"load generator: {'wrk -t2' if load is load_wrk else 'Python threads'}, "
          f"{args.connections} connections, {args.seconds:g} s per run, {args.rounds} rounds")
    if not args.floor:
        with _server(()) as (server, ready):
            for target in TARGETS:
                _measure(server, ready, target, load, args)
        return 0
    signed = next(target for target in TARGETS if target[3])
    for stand_ins in FLOOR_WAYS:
        name = "signed-in /requests, " + (
            " and ".join(f"{part} stood in" for part in stand_ins) or "as served")
        with _server(stand_ins) as (server, ready):
            # Only the page as served is judged against the goal.
            _measure(server, ready, (name, *signed[1:]), load, args, judged=not stand_ins)
    return 0


@contextlib.contextmanager
def _server(stand_ins: tuple[str, ...]) -> Iterator[tuple[subprocess.Popen[str], Any]]:
    """This script's server process, ready: the process and what it printed."""
    command = [sys.executable, __file__, "--serve",
               *(f"--stand-in={part}" for part in stand_ins)]
    server = subprocess.Popen(command, stdin=subprocess.PIPE,  # noqa: S603  (this script)
                              stdout=subprocess.PIPE, text=True)
    try:
        assert server.stdout is not None
        ready = json.loads(server.stdout.readline())
        print(f"server process, as served: {ready['memory']}")
        yield server, ready
    finally:
        if server.stdin is not None:
            server.stdin.close()
        server.wait(timeout=30)


def _measure(server: subprocess.Popen[str], ready: Any, target: tuple[Any, ...],
             load: Callable[..., float], args: argparse.Namespace,
             judged: bool = True) -> None:
    """Loads one of ``TARGETS`` and its bare twin in turn; prints its row
    (with no verdict unless ``judged``)."""
    name, role, path, signed, goal, floor = target
    cookie = ready["cookie"] if signed else None
    haven_url = ready["addresses"][role].rstrip("/") + path
    bare_url = ready["addresses"][f"bare_{role}"].rstrip("/") + path
    ratios, havens, bares = [], [], []
    cpu: dict[str, list[float]] = {"haven": [], "bare": []}
    for _ in range(args.rounds):
        haven = _with_cpu(server.pid, cpu["haven"], load, haven_url, cookie,
                          args.seconds, args.connections)
        bare = _with_cpu(server.pid, cpu["bare"], load, bare_url, cookie,
                         args.seconds, args.connections)
        havens.append(haven)
        bares.append(bare)
        ratios.append(haven / bare)
    ratio = statistics.median(ratios)
    rate = statistics.median(havens)
    print(f"{name:<34} Haven {rate:7.0f} req/s   bare Flask "
          f"{statistics.median(bares):7.0f} req/s   ratio {ratio:.2f}x "
          f"(rounds: {', '.join(f'{r:.2f}' for r in ratios)})")
    print(f"{'':34} server CPU per request: Haven "
          f"{statistics.median(cpu['haven']):.2f} ms, bare Flask "
          f"{statistics.median(cpu['bare']):.2f} ms")
    met = ratio >= goal and (floor is None or rate >= floor)
    goal_text = f">= {goal}x" + (f" and >= {floor:,.0f} req/s" if floor else "")
    hb.row(f"{name} req/s vs bare Flask", f"{rate:.0f} req/s, {ratio:.2f}x",
           goal_text, met if judged else None)


if __name__ == "__main__":
    sys.exit(main())
