"""Server time of a new request, sealed to 10 of N volunteers, as N grows.

For each N an instance gets N vetted volunteers with hybrid keys, every
one of whom matches the request (so matching really picks 10 of N); a
signed-in requester then sends the new-request form through the app, in
process: parsing, the caps, matching, hybrid sealing to 11 readers, storing
and the commit. Its server time (the app's WSGI call, without the test
client's own work) should stay flat from 10 to 10,000 volunteers, p50.
Beside them, the middle size with volunteers who have X25519 keys only:
what issue 17's hybrid stanzas add to a submission.

All the instances are made first and then measured in turns, a few
submissions each per round: this machine's speed changes from one second to
the next (the same code measured 4 ms and 8 ms a minute apart), and one slow
spell must fall on every size alike, not on whichever was measured then.

The process guards its memory as ``haven`` does (``serving.memory``): where
the machine lets it lock all its memory, SQLCipher's own per-allocation
locking is off, as in a served process. Then, in a process of its own, the
middle size once more where the memory could not be locked, and SQLCipher
locks and wipes each of its allocations.

    .venv/bin/python bench/submission_bench.py [--sizes 10,100,1000,10000] [--runs 40]
"""

from __future__ import annotations

import argparse
import contextlib
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import havenbench as hb

IN_BENCH_SUITE = True
GOAL_MS = 5.0
# Submissions per instance per round: few, so rounds are short and many.
PER_ROUND = 5
WARM_UP = 3

FORM = {"title": "A request", "story": "What is happening, told at length. " * 60,
        "help": "What would help.", "skills": [hb.SKILL_CODES[0]],
        "languages": [hb.LANGUAGE_CODES[0]], "region": "unsaid", "urgency": "normal"}


class Submitting:
    """One instance with ``size`` volunteers and a signed-in requester."""

    def __init__(self, stack: contextlib.ExitStack, size: int, *, hybrid: bool,
                 locked: bool) -> None:
        from onion_app import create_app
        from onion_app.web.state import Runtime

        self.size, self.hybrid = size, hybrid
        config = stack.enter_context(hb.instance())
        self.folder = config.instance_path
        config = hb.without_caps(hb.without_csrf(config))
        self.runtime = Runtime.for_config(config, memory_locked=locked)
        app = create_app("public", config, self.runtime)
        start = time.perf_counter()
        with self.runtime.database.connect() as conn:
            hb.add_volunteers(conn, size, rng=hb.random.Random(size), hybrid=hybrid,
                              always=(hb.SKILL_CODES[0], hb.LANGUAGE_CODES[0]))
            requester_id, keys = hb.add_requester(conn)
            conn.commit()
        self.built = time.perf_counter() - start
        self.client = hb.signed_in(app, "requester", requester_id, requester_keys=keys,
                                   account_ref=bytes(keys.public_key).hex())
        # Server time: the app's WSGI call, everything Haven does for the
        # post (its middleware included), without the test client's work of
        # encoding the form and reading the answer, which waitress and the
        # browser would do. Its CPU time too: on this shared machine the
        # wall time also counts the moments another tenant had the core; the
        # CPU time does not (nor the wait for the disk).
        self._served: list[tuple[float, float]] = []
        inner = app.wsgi_app

        def timed(environ: dict[str, object], start_response: object) -> object:
            began, began_cpu = time.perf_counter(), time.thread_time()
            try:
                return inner(environ, start_response)  # type: ignore[arg-type]
            finally:
                self._served.append(((time.perf_counter() - began) * 1000,
                                     (time.thread_time() - began_cpu) * 1000))

        app.wsgi_app = timed  # type: ignore[method-assign]
        self.times: list[float] = []
        self.cpu_times: list[float] = []
        self.client_times: list[float] = []
        self.submit(WARM_UP, keep=False)

    def submit(self, count: int, *, keep: bool = True) -> None:
        for _ in range(count):
            # The page a browser follows the redirect to shows the "sent"
            # message and takes it out of the session; without it, each
            # message would stay in the cookie and every post would carry
            # all the earlier ones.
            with self.client.session_transaction() as cookie:
                cookie.pop("_flashes", None)
            start = time.perf_counter()
            hb.ok(self.client.post("/requests/new", data=FORM), "/requests/new", 302)
            if keep:
                self.client_times.append((time.perf_counter() - start) * 1000)
                self.times.append(self._served[-1][0])
                self.cpu_times.append(self._served[-1][1])

    def report(self, bare: float) -> tuple[float, float]:
        """Prints this instance's line; :returns: the server time's p50 and its CPU time's p50"""
        with self.runtime.database.connect() as conn:
            readers = conn.execute(
                "SELECT count(*) FROM request_readers WHERE volunteer_id IS NOT NULL"
                " AND request_id = (SELECT max(id) FROM requests)").fetchone()[0]
        kind = "" if self.hybrid else " X25519-only"
        print(f"{self.size:>6,}{kind} volunteers (made in {self.built:5.1f} s): submission p50 "
              f"{hb.p50(self.times):6.2f} ms   p90 {hb.p90(self.times):6.2f} ms   "
              f"CPU {hb.p50(self.cpu_times):6.2f} ms   "
              f"(with the test client {hb.p50(self.client_times):.2f} ms, "
              f"{len(self.times)} submissions)   sealed to {readers} volunteers; "
              f"same run: bare Flask page {bare:.2f} ms, "
              f"bare SQLite commit {hb.commit_ms(self.folder):.2f} ms", flush=True)
        return hb.p50(self.times), hb.p50(self.cpu_times)


def measure_all(specs: list[tuple[int, bool]], runs: int, *,
                locked: bool) -> list[tuple[float, float]]:
    """Each (size, hybrid) instance measured in turns, ``runs`` submissions each.

    :returns: each one's server time p50 and CPU time p50, in ms, in order
    """
    with contextlib.ExitStack() as stack:
        benches = [Submitting(stack, size, hybrid=hybrid, locked=locked)
                   for size, hybrid in specs]
        rounds = -(-runs // PER_ROUND)
        bares: list[float] = []
        for turn in range(rounds):
            # Each round starts with another instance, so none always goes
            # first (or last) after the machine has been idle.
            for bench in benches[turn % len(benches):] + benches[:turn % len(benches)]:
                bench.submit(min(PER_ROUND, runs - turn * PER_ROUND))
            bares.append(hb.bare_page_ms(runs=40))
        bare = hb.p50(bares)
        return [bench.report(bare) for bench in benches]


def _ms(found: tuple[float, float]) -> str:
    return f"{found[0]:.1f} ms (CPU {found[1]:.1f})"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10,100,1000,10000")
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument("--sqlcipher-locking", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.sqlcipher_locking:
        # A process that did not lock its memory: SQLCipher's own locking on.
        wall, cpu = measure_all([(args.sqlcipher_locking, True)], args.runs, locked=False)[0]
        print(f"{wall} {cpu}")
        return 0
    locked, status = hb.guard_as_served()
    print(f"as served: {status}", flush=True)
    sizes = [int(size) for size in args.sizes.split(",")]
    middle = sizes[len(sizes) // 2]
    # What issue 17's hybrid stanzas cost a submission: the middle size with
    # volunteers who have X25519 keys only (version-1 stanzas), in turn with
    # the rest.
    measured = measure_all([*((size, True) for size in sizes), (middle, False)], args.runs,
                           locked=locked)
    found: dict[int, Any] = dict(zip(sizes, measured[:-1], strict=True))
    v1, hybrid = measured[-1], found[middle]
    # And a process that could not lock its memory (no CAP_IPC_LOCK, a
    # memory-lock limit, no cgroup barring swap): SQLCipher locks and wipes
    # each allocation itself. A process of its own, since that setting lasts
    # for a process; so not in turn with the others.
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
