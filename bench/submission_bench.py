"""Server time of a new request, sealed to 10 of N volunteers, as N grows.

For each N a fresh instance gets N vetted volunteers with hybrid keys, every
one of whom matches the request (so matching really picks 10 of N); a
signed-in requester then sends the new-request form through the app, in
process: parsing, the caps, matching, hybrid sealing to 11 readers, storing
and the commit. Its server time (the app's WSGI call, without the test
client's own work) should stay flat from 10 to 10,000 volunteers, p50.
The process guards its memory as ``haven`` does (``serving.memory``): where
the machine lets it lock all its memory, SQLCipher's own per-allocation
locking is off, as in a served process. Then the middle size again, with
volunteers who have X25519 keys only, beside hybrid ones: what issue 17's
hybrid stanzas add to a submission; and once more in a process that could
not lock its memory, where SQLCipher locks and wipes each of its allocations.

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


def measure(size: int, runs: int, *, hybrid: bool = True, locked: bool) -> tuple[float, float]:
    """:returns: the server time's p50 and its CPU time's p50, in ms"""
    from onion_app import create_app
    from onion_app.web.state import Runtime

    rng = hb.random.Random(size)
    with hb.instance() as config:
        config = hb.without_caps(hb.without_csrf(config))
        runtime = Runtime.for_config(config, memory_locked=locked)
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
        # Server time: the app's WSGI call, everything Haven does for the
        # post (its middleware included), without the test client's work of
        # encoding the form and reading the answer, which waitress and the
        # browser would do.
        # Its CPU time too: on this shared machine the wall time also counts
        # the moments another tenant had the core; the CPU time does not (nor
        # the wait for the disk).
        served: list[tuple[float, float]] = []
        inner = app.wsgi_app

        def timed(environ: dict[str, object], start_response: object) -> object:
            began, began_cpu = time.perf_counter(), time.thread_time()
            try:
                return inner(environ, start_response)  # type: ignore[arg-type]
            finally:
                served.append(((time.perf_counter() - began) * 1000,
                               (time.thread_time() - began_cpu) * 1000))

        app.wsgi_app = timed  # type: ignore[method-assign]
        times, cpu_times, client_times = [], [], []
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
                client_times.append((time.perf_counter() - start) * 1000)
                times.append(served[-1][0])
                cpu_times.append(served[-1][1])
        disk = hb.commit_ms(config.instance_path)
        bare = hb.bare_page_ms()
        with runtime.database.connect() as conn:
            readers = conn.execute(
                "SELECT count(*) FROM request_readers WHERE volunteer_id IS NOT NULL"
                " AND request_id = (SELECT max(id) FROM requests)").fetchone()[0]
    kind = "" if hybrid else " X25519-only"
    print(f"{size:>6,}{kind} volunteers (made in {built:5.1f} s): submission p50 "
          f"{hb.p50(times):6.2f} ms   p90 {hb.p90(times):6.2f} ms   "
          f"CPU {hb.p50(cpu_times):6.2f} ms   "
          f"(with the test client {hb.p50(client_times):.2f} ms)   "
          f"sealed to {readers} volunteers; same run: bare Flask page {bare:.2f} ms, "
          f"bare SQLite commit {disk:.2f} ms",
          flush=True)
    return hb.p50(times), hb.p50(cpu_times)


def _ms(found: tuple[float, float]) -> str:
    return f"{found[0]:.1f} ms (CPU {found[1]:.1f})"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10,100,1000,10000")
    parser.add_argument("--runs", type=int, default=25)
    parser.add_argument("--sqlcipher-locking", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.sqlcipher_locking:
        # A process that did not lock its memory: SQLCipher's own locking on.
        wall, cpu = measure(args.sqlcipher_locking, args.runs, locked=False)
        print(f"{wall} {cpu}")
        return 0
    locked, status = hb.guard_as_served()
    print(f"as served: {status}", flush=True)
    sizes = [int(size) for size in args.sizes.split(",")]
    found = {size: measure(size, args.runs, locked=locked) for size in sizes}
    # What issue 17's hybrid stanzas cost a submission: the same request to
    # volunteers with X25519 keys only (version-1 stanzas), in the same run.
    middle = sizes[len(sizes) // 2]
    v1 = measure(middle, args.runs, hybrid=False, locked=locked)
    hybrid = measure(middle, args.runs, locked=locked)
    # And a process that could not lock its memory (no CAP_IPC_LOCK, a
    # memory-lock limit, no cgroup barring swap): SQLCipher locks and wipes
    # each allocation itself. Same size, same run, a process of its own
    # since that setting lasts for a process.
    other_run = subprocess.run(  # noqa: S603  (this script)
        [sys.executable, __file__, "--sqlcipher-locking", str(middle), "--runs",
         str(args.runs)], capture_output=True, text=True, check=True).stdout.strip().splitlines()
    print("  where the process cannot lock its memory:", other_run[0].strip())
    wall, cpu = other_run[-1].split()
    other = (float(wall), float(cpu))
    worst = max(wall for wall, _cpu in found.values())
    growth = found[sizes[-1]][0] / found[sizes[0]][0]
    hb.row("submission sealed to 10 of N volunteers, server time p50",
           " / ".join(f"{_ms(found[s])} at {s:,}" for s in sizes) + f" (x{growth:.1f})",
           f"<= {GOAL_MS:g} ms, flat", worst <= GOAL_MS and growth < 1.5)
    hb.row(f"submission at {middle:,} volunteers, hybrid beside X25519-only readers, p50",
           f"{_ms(hybrid)} hybrid, {_ms(v1)} X25519-only ({hybrid[0] - v1[0]:+.1f} ms)",
           "within the submission goal (issue 17)", None)
    hb.row(f"submission at {middle:,} volunteers, p50, in a process that cannot lock its memory",
           f"{_ms(other)} with SQLCipher locking each allocation, against {_ms(hybrid)} "
           + ("with the process locked" if locked else "here (this process is not locked either)"),
           "what an unlocked process costs", None)
    return 0


if __name__ == "__main__":
    sys.exit(main())
