"""A signed-in requester's pages in process: ``GET /requests`` and a new request.

What ``bench/http_bench.py`` measures through waitress, without the socket:
the page called as waitress calls it (the WSGI app, with the cookie a browser
holds), beside a bare Flask app answering the same bytes on the same call,
in the same rounds. Each figure is printed twice: with SQLCipher's
``cipher_memory_security`` on (as the serve process runs unless it has locked
all its memory) and off (``havenbench.without_memory_wiping``, before the
first connection: how a process that has locked its memory runs). The pragma
holds for a whole process, so each way runs in processes of its own.

The new request is the POST of the form's fields, sealing included (the
submission's own bench, ``bench/submission_bench.py``, splits that up), and
the form alone: ``RequestForm`` built and validated in a request context.

``--against DIR`` measures another checkout of Haven (an older commit, say,
from ``git worktree add``) in the same run: each round runs one process per
checkout and way, alternately, so both see the same machine.

    .venv/bin/python bench/requests_page_bench.py [--rounds 7] [--runs 200] [--against DIR]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

IN_BENCH_SUITE = True
HERE = Path(__file__).resolve().parent
REQUESTS = 3
WAYS = {"wiping": "memory wiping on", "not-wiping": "memory wiping off"}


def measure(hb: Any, rounds: int, runs: int) -> dict[str, float]:
    """Medians over ``rounds`` of each part's p50, in milliseconds, of the
    checkout whose ``havenbench`` is ``hb``."""
    from flask import Flask
    from werkzeug.test import EnvironBuilder

    from onion_app import create_app
    from onion_app.domain import sealing
    from onion_app.domain.matching import Policy
    from onion_app.requester.forms import RequestForm
    from onion_app.web.state import Runtime

    with hb.instance() as config:
        runtime = Runtime.for_config(config)
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


def child(root: Path, way: str, rounds: int, runs: int) -> None:
    """One process's figures, for the checkout at ``root``: its havenbench
    puts that checkout first on the path, so Haven is imported from there."""
    sys.path.insert(0, str(root / "bench"))
    import havenbench as hb

    if way == "not-wiping":
        hb.without_memory_wiping()
    figures = measure(hb, rounds, runs)
    import onion_app

    if not Path(onion_app.__file__).resolve().is_relative_to(root):
        raise SystemExit(f"Haven came from {onion_app.__file__}, not from {root}")
    print(json.dumps(figures))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--against", type=Path,
                        help="another checkout of Haven, measured in the same run")
    parser.add_argument("--child", choices=list(WAYS), help=argparse.SUPPRESS)
    parser.add_argument("--root", type=Path, default=HERE.parent, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.root.resolve(), args.child, args.rounds, args.runs)
        return 0
    sys.path.insert(0, str(HERE))
    import havenbench as hb

    trees = {"this checkout": HERE.parent}
    if args.against is not None:
        trees = {f"{args.against}": args.against.resolve(), **trees}
    print(f"{hb.machine()}; {hb.load()}")
    print(f"p50 in ms, median of {args.rounds} rounds; {REQUESTS} requests on the list")
    # With two checkouts, one round at a time, alternately; alone, all rounds at once.
    batches = (args.rounds, 1) if args.against is None else (1, args.rounds)
    found: dict[tuple[str, str], list[dict[str, float]]] = {}
    for _ in range(batches[1]):
        for way in WAYS:
            for tree, root in trees.items():
                out = subprocess.run(  # noqa: S603  (this script)
                    [sys.executable, __file__, "--child", way, "--root", str(root),
                     "--rounds", str(batches[0]), "--runs", str(args.runs)],
                    capture_output=True, text=True, check=True).stdout
                found.setdefault((tree, way), []).append(json.loads(out.splitlines()[-1]))
    names = list(found[next(iter(found))][0])
    for tree in trees:
        if len(trees) > 1:
            print(f"\n{tree}")
        print(f"{'':34} {WAYS['wiping']:>17} {'off':>8}")
        figures = {way: {name: statistics.median(r[name] for r in found[(tree, way)])
                         for name in names} for way in WAYS}
        for name in names:
            print(f"{name:34} {figures['wiping'][name]:17.3f} "
                  f"{figures['not-wiping'][name]:8.3f}")
        if tree == "this checkout":
            for way, label in WAYS.items():
                page, bare = figures[way]["GET /requests"], figures[way]["bare Flask, same bytes"]
                hb.row(f"signed-in /requests in process ({label})",
                       f"{page:.2f} ms, bare Flask {bare:.2f} ms", "-", None)
    return 0


if __name__ == "__main__":
    sys.exit(main())
