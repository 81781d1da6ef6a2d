"""Server time of a new request, sealed to 10 of N volunteers, as N grows.

For each N a fresh instance gets N vetted volunteers with hybrid keys, every
one of whom matches the request (so matching really picks 10 of N); a
signed-in requester then sends the new-request form through the app, in
process: parsing, the caps, matching, hybrid sealing to 11 readers, storing
and the commit. The p50 should stay flat from 10 to 10,000 volunteers.
Then the middle size again, with volunteers who have X25519 keys only, beside
hybrid ones: what issue 17's hybrid stanzas add to a submission; and once
more in a process without SQLCipher's memory locking, to show its share.

    .venv/bin/python bench/submission_bench.py [--sizes 10,100,1000,10000] [--runs 40]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import havenbench as hb

IN_BENCH_SUITE = True
GOAL_MS = 5.0


def measure(size: int, runs: int, *, hybrid: bool = True) -> float:
    from onion_app import create_app
    from onion_app.web.state import Runtime

    rng = hb.random.Random(size)
    with hb.instance() as config:
        config = hb.without_caps(hb.without_csrf(config))
        runtime = Runtime.for_config(config)
        app = create_app("public", config, runtime)
        start = time.perf_counter()
        with runtime.database.connect() as conn:
            hb.add_volunteers(conn, size, rng=rng, hybrid=hybrid,
                              always=(hb.SKILL_CODES[0], hb.LANGUAGE_CODES[0]))
            requester_id, keys = hb.add_requester(conn)
            conn.commit()
        built = time.perf_counter() - start
        client = hb.signed_in(app, "requester", requester_id, requester_keys=keys,
                              account_ref=bytes(keys.public_key).hex())
        form = {"title": "A request", "story": "What is happening, told at length. " * 60,
                "help": "What would help.", "skills": [hb.SKILL_CODES[0]],
                "languages": [hb.LANGUAGE_CODES[0]], "region": "unsaid", "urgency": "normal"}
        times = []
        for run in range(runs + 3):
            # The page a browser follows the redirect to shows the "sent"
            # message and takes it out of the session; without it, each
            # message would stay in the cookie and every post would carry
            # all the earlier ones.
            with client.session_transaction() as cookie:
                cookie.pop("_flashes", None)
            start = time.perf_counter()
            hb.ok(client.post("/requests/new", data=form), "/requests/new", 302)
            if run >= 3:  # the first three warm up
                times.append((time.perf_counter() - start) * 1000)
        disk = hb.commit_ms(config.instance_path)
        bare = hb.bare_page_ms()
        with runtime.database.connect() as conn:
            readers = conn.execute(
                "SELECT count(*) FROM request_readers WHERE volunteer_id IS NOT NULL"
                " AND request_id = (SELECT max(id) FROM requests)").fetchone()[0]
    kind = "" if hybrid else " X25519-only"
    print(f"{size:>6,}{kind} volunteers (made in {built:5.1f} s): submission p50 "
          f"{hb.p50(times):6.2f} ms   p90 {hb.p90(times):6.2f} ms   "
          f"sealed to {readers} volunteers; same run: bare Flask page {bare:.2f} ms, "
          f"bare SQLite commit {disk:.2f} ms",
          flush=True)
    return hb.p50(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10,100,1000,10000")
    parser.add_argument("--runs", type=int, default=25)
    parser.add_argument("--unlocked", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.unlocked:
        hb.without_memory_wiping()
        print(f"  (without memory locking: p50 at {args.unlocked:,}, ms) "
              f"{measure(args.unlocked, args.runs):.2f}")
        return 0
    sizes = [int(size) for size in args.sizes.split(",")]
    found = {size: measure(size, args.runs) for size in sizes}
    # What issue 17's hybrid stanzas cost a submission: the same request to
    # volunteers with X25519 keys only (version-1 stanzas), in the same run.
    middle = sizes[len(sizes) // 2]
    v1 = measure(middle, args.runs, hybrid=False)
    hybrid = measure(middle, args.runs)
    # And what SQLCipher's memory locking costs it: a process that never
    # turns it on (once on, it stays on), same size, same run.
    unlocked = subprocess.run(  # noqa: S603  (this script)
        [sys.executable, __file__, "--unlocked", str(middle), "--runs", str(args.runs)],
        capture_output=True, text=True, check=True).stdout
    print("  without memory locking:", unlocked.strip().splitlines()[0].strip())
    unlocked_ms = float(unlocked.split()[-1])
    worst = max(found.values())
    growth = found[sizes[-1]] / found[sizes[0]]
    hb.row("submission sealed to 10 of N volunteers, p50",
           " / ".join(f"{found[s]:.1f} ms at {s:,}" for s in sizes) + f" (x{growth:.1f})",
           f"<= {GOAL_MS:g} ms, flat", worst <= GOAL_MS and growth < 1.5)
    hb.row(f"submission at {middle:,} volunteers, hybrid beside X25519-only readers, p50",
           f"{hybrid:.1f} ms hybrid, {v1:.1f} ms X25519-only ({hybrid - v1:+.1f} ms)",
           "within the submission goal (issue 17)", None)
    hb.row(f"submission at {middle:,} volunteers, p50, without SQLCipher's memory locking",
           f"{unlocked_ms:.1f} ms, against {hybrid:.1f} ms with it (production)",
           "kept on: decrypted pages never reach swap", None)
    return 0


if __name__ == "__main__":
    sys.exit(main())
