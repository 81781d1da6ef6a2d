"""A signed-in requester's pages in process: ``GET /requests`` and a new request.

What ``bench/http_bench.py`` measures through waitress, without the socket:
the page called as waitress calls it (the WSGI app, with the cookie a browser
holds), beside a bare Flask app answering the same bytes on the same call,
in the same rounds. Each figure is printed twice: as served (the process
guards its memory as ``haven`` does, ``havenbench.guard_as_served``: where
the machine lets it lock all its memory, SQLCipher's ``cipher_memory_security``
is off) and in a process that cannot lock its memory, where SQLCipher locks
and wipes each of its allocations. The pragma holds for a whole process, so
each way runs in its own child process.

The new request is the POST of the form's fields, sealing included (the
submission's own bench, ``bench/submission_bench.py``, splits that up), and
the form alone: ``RequestForm`` built and validated in a request context.

    .venv/bin/python bench/requests_page_bench.py [--rounds 7] [--runs 200]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import havenbench as hb

IN_BENCH_SUITE = False  # http_bench measures this page over HTTP; ~30 s, run by hand
# http_bench's goal for this page is 0.4x a bare app's req/s; in process the
# bare app's share of a request is smaller than over HTTP, so the figure here
# is only the direction, and the per-request milliseconds are what to read.
REQUESTS = 3


def measure(rounds: int, runs: int, locked: bool) -> dict[str, float]:
    """Medians over ``rounds`` of each part's p50, in milliseconds."""
    from flask import Flask
    from werkzeug.test import EnvironBuilder

    from onion_app import create_app
    from onion_app.domain import sealing
    from onion_app.domain.matching import Policy
    from onion_app.requester.forms import RequestForm
    from onion_app.web.state import Runtime

    with hb.instance() as config:
        runtime = Runtime.for_config(config, memory_locked=locked)
        app = create_app("public", config, runtime)
        posting = create_app("public", hb.without_caps(hb.without_csrf(config)), runtime)
        with runtime.database.connect() as conn:
            requester_id, keys = hb.add_requester(conn)
            hb.add_volunteers(conn, 20, rng=hb.random.Random(3))
            for number in range(REQUESTS):
                sealing.submit_request(conn, requester_id, keys, sealing.NewRequest(
                    sealing.RequestText(f"Request {number}", "A story. " * 80, "Help."),
                    frozenset(hb.SKILL_CODES[:2]), frozenset(hb.LANGUAGE_CODES[:2]),
                    "unsaid", "normal"), Policy.of(config))
            conn.commit()
        client = hb.signed_in(app, "requester", requester_id, requester_keys=keys,
                              account_ref=bytes(keys.public_key).hex())
        page = hb.ok(client.get("/requests"), "/requests").get_data()
        cookie = hb.session_cookie(client, app)
        bare = Flask("bare")
        bare.add_url_rule("/requests", "page", lambda: (
            page, 200, {"Content-Type": "text/html; charset=utf-8"}))
        poster = hb.signed_in(posting, "requester", requester_id, requester_keys=keys,
                              account_ref=bytes(keys.public_key).hex())
        fields = {"title": "Lawyer needed", "story": "What happened. " * 40,
                  "help": "Advice.", "skills": hb.SKILL_CODES[:2],
                  "languages": hb.LANGUAGE_CODES[:2], "region": "unsaid",
                  "urgency": "normal"}
        hb.ok(poster.get("/requests/new"), "/requests/new")
        cookie_name, held = hb.session_cookie(poster, posting).split("=", 1)

        def post() -> None:
            # The cookie as before each POST: its flashed message, left unread
            # without the redirect's page, would grow the cookie at each run.
            poster.set_cookie(cookie_name, held)
            hb.ok(poster.post("/requests/new", data=fields), "/requests/new", 302)
            # Only the form's own work is measured, not a growing list.
            with runtime.database.connect() as conn:
                conn.execute("DELETE FROM requests WHERE id > ?", (REQUESTS,))
                conn.commit()

        def form_alone() -> None:
            with posting.test_request_context("/requests/new", method="POST", data=fields):
                if not RequestForm().validate():
                    raise SystemExit("the form did not validate")

        parts = {
            "GET /requests": _wsgi(app, EnvironBuilder(
                path="/requests", headers={"Cookie": cookie}).get_environ()),
            "bare Flask, same bytes": _wsgi(bare, EnvironBuilder(
                path="/requests").get_environ()),
            "POST /requests/new": post,
            "RequestForm built and validated": form_alone,
        }
        medians: dict[str, list[float]] = {name: [] for name in parts}
        for _ in range(rounds):
            for name, work in parts.items():
                count = runs if not name.startswith("POST") else max(runs // 10, 10)
                medians[name].append(hb.p50(hb.timed(work, count, warmup=5)))
        return {name: statistics.median(found) for name, found in medians.items()}


def _wsgi(app: Any, environ: dict[str, Any]) -> Any:
    def call() -> None:
        statuses: list[str] = []
        b"".join(app(dict(environ), lambda status, headers, exc_info=None:
                      statuses.append(status)))
        if not statuses[0].startswith("200"):
            raise SystemExit(f"{environ['PATH_INFO']} answered {statuses[0]}")
    return call


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--child", choices=["wiping", "as-served"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        locked = hb.guard_as_served()[0] if args.child == "as-served" else False
        print(json.dumps(measure(args.rounds, args.runs, locked)))
        return 0
    print(f"{hb.machine()}; {hb.load()}")
    print(f"p50 in ms, median of {args.rounds} rounds; {REQUESTS} requests on the list")
    found = {}
    for way in ("wiping", "as-served"):
        out = subprocess.run([sys.executable, __file__, "--child", way,  # noqa: S603  (this script)
                              "--rounds", str(args.rounds), "--runs", str(args.runs)],
                             capture_output=True, text=True, check=True).stdout
        found[way] = json.loads(out.splitlines()[-1])
    names = list(found["wiping"])
    print(f"{'':34} {'SQLCipher locking':>17} {'as served':>10}")
    for name in names:
        print(f"{name:34} {found['wiping'][name]:17.3f} {found['as-served'][name]:10.3f}")
    for way, label in (("wiping", "process not locked, SQLCipher locking"),
                       ("as-served", "as served")):
        page, bare = found[way]["GET /requests"], found[way]["bare Flask, same bytes"]
        hb.row(f"signed-in /requests in process ({label})",
               f"{page:.2f} ms, bare Flask {bare:.2f} ms", "-", None)
    return 0


if __name__ == "__main__":
    sys.exit(main())
