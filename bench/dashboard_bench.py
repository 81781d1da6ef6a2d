"""The volunteer dashboard as the number of requests grows: 1k, 10k, 100k.

Builds one real SQLCipher database in a temporary folder, in stages, with
1,000 volunteers holding hybrid keys. Every request is really sealed (hybrid
X25519 + ML-KEM stanzas, ``crypto.envelope.seal`` as ``submit_request``
calls it) to its own requester key, derived per request as in life, and to
the 10 volunteers Haven's ranking (``domain.matching.rank``) picks, and
stored through ``store.requests.create_request``, with every migration
applied (so its triggers run, as for any submission). At each stage it
times, for the volunteer who reads the most requests, the whole
``/dashboard`` page through the app (20 titles opened), the page filtered by
a skill, the last page, and the page of closed requests, beside a bare Flask
page timed in the same run. About one request in seven has ended
(:data:`ENDED_SHARE`: resolved, or closed), set through the app's own store call.

How the build is fast, and what it leaves out of a submission's path:

- Sealing runs in worker processes, one per core; a builder process stores
  each batch of 250 sealed requests in one transaction while the workers
  seal the next ones.
- The builder is a process of its own, started fresh (``spawn``), whose
  connection is opened as a server thread's (``Database.thread_connection``,
  a 64 MiB page cache) without SQLCipher's ``cipher_memory_security``, which
  makes SQLCipher lock and wipe every allocation: it protects a process's
  memory, changes nothing written to the file, and costs about 3.5 of every
  4 ms the storing takes (``--wipe-memory`` builds with it). Its commits do
  not wait for the disk (``synchronous = OFF``, where Haven serves with
  FULL): the same bytes are written, and a power cut could lose only the
  data set being built. The dashboard is
  measured in this process, which guards its memory as ``haven`` does
  (``serving.memory``): where the machine lets it lock all its memory,
  SQLCipher's own locking is off there too, as in a served process.
- Each worker makes each volunteer's key object once from the stored bytes
  (a server process keeps them in an LRU). The candidates are read once
  and ranked in memory (``domain.matching.rank``, not the SQL matching of
  ``store/matching.py``) once per combination of needs: nobody claims
  anything while the data set is built, so the ranking's inputs do not
  change. ``bench/submission_bench.py`` measures the real submission path.
- No attachments, and none of the submission view's checks and rate limits.

    .venv/bin/python bench/dashboard_bench.py [--stages 1000,10000,100000] [--runs 30]
"""

from __future__ import annotations

import argparse
import dataclasses
import multiprocessing
import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import havenbench as hb

IN_BENCH_SUITE = True
GOAL_MS = 20.0
BUILD_GOAL_S = 300.0
STORY = "A story of a few paragraphs. " * 40
BATCH = 250
# The share of requests that have ended (two thirds resolved, a third
# closed): what the dashboard's "resolved" and "closed" filters find.
ENDED_SHARE = 0.15
BUILDER_CACHE_KIB = 64 * 1024

# In a sealing worker: each volunteer's public key, checked and parsed once.
_READERS: dict[int, Any] = {}


def _init_worker(keys: dict[int, tuple[bytes, bytes]]) -> None:
    from crypto.hybrid import HybridPublicKey

    _READERS.update({vid: HybridPublicKey.from_bytes(x, m) for vid, (x, m) in keys.items()})


Sealed = tuple[str, bytes, bytes, bytes, list[tuple[str, int | None, bytes]]]


def _seal_batch(batch: list[tuple[int, str, list[int]]]) -> list[Sealed]:
    """Seals a batch of requests in a worker: the same calls as ``submit_request``."""
    import secrets

    from crypto.envelope import seal
    from crypto.hybrid import x25519_public
    from crypto.keys import fingerprint
    from crypto.requester import REQUEST_KEY_VERSION, derive_request_key
    from onion_app.domain import sealing

    out = []
    for number, public_id, chosen in batch:
        # A requester key per request, derived as a session derives it.
        requester_key = derive_request_key(secrets.token_bytes(32), public_id,
                                           version=REQUEST_KEY_VERSION).public_key
        text = sealing.RequestText(f"Request {number}", STORY, "Help.")
        by_fp = {fingerprint(_READERS[v].x25519): v for v in chosen}
        envelope = seal(text.encode(), [requester_key, *(_READERS[v] for v in chosen)],
                        sealing.request_ad(public_id), max_size=sealing.REQUEST_MAX_SIZE)
        readers = [(fp, by_fp.get(fp), stanza) for fp, stanza in envelope.stanzas.items()]
        out.append((public_id, envelope.body, bytes(x25519_public(requester_key)),
                    requester_key.mlkem, readers))
    return out


class Builder:
    """Grows the data set, in the builder process, sealing in worker processes."""

    def __init__(self, config: Any, keys: dict[int, tuple[bytes, bytes]],
                 requester_id: int, wipe: bool) -> None:
        from onion_app.store import Database
        from onion_app.store import matching as store_matching
        from onion_app.store import volunteers as volunteer_rows

        self.database = Database(dataclasses.replace(config, db_cache_kib=BUILDER_CACHE_KIB),
                                 memory_security=wipe)
        self.conn = self.database.thread_connection()
        # A throwaway data set: its commits need not wait for the disk. The
        # bytes written are the same; only a power cut could lose a batch.
        # With the served FULL, the 100k build took 302 s here, with OFF 234 s.
        self.conn.execute("PRAGMA synchronous = OFF")
        self.requester_id = requester_id
        self.rng = hb.random.Random(11)
        self.ends = hb.random.Random(13)
        self.candidates = volunteer_rows.candidates(self.conn, hb.SKILL_CODES)
        # Nothing changes the pool while building: every request was matched
        # against this version, as submit_request records.
        self.pool_version = store_matching.pool_version(self.conn)
        self.ranked: dict[tuple[frozenset[str], frozenset[str]], list[int]] = {}
        self.made = 0
        self.pool = multiprocessing.get_context("fork").Pool(
            max(os.cpu_count() or 1, 1), _init_worker, (keys,))

    def _chosen(self, skills: frozenset[str], languages: frozenset[str]) -> list[int]:
        from onion_app.domain import matching

        key = (skills, languages)
        if key not in self.ranked:
            self.ranked[key] = [c.volunteer_id for c in matching.rank(
                matching.Needs(skills, languages), self.candidates, 10)]
        return self.ranked[key]

    def _batches(self, count: int, needs: dict[str, tuple[Any, ...]]) -> Iterator[list[Any]]:
        from onion_app.store import requests as rows

        batch = []
        for number in range(self.made, self.made + count):
            skills = frozenset(self.rng.sample(hb.SKILL_CODES, 2))
            languages = frozenset(self.rng.sample(hb.LANGUAGE_CODES, 2))
            urgency = self.rng.choices(["normal", "urgent", "critical"], [8, 1.5, 0.5])[0]
            public_id = rows.new_public_id()
            needs[public_id] = (skills, languages, urgency)
            batch.append((number, public_id, self._chosen(skills, languages)))
            if len(batch) == BATCH:
                yield batch
                batch = []
        if batch:
            yield batch

    def grow_to(self, total: int, deadline: float) -> int:
        """Adds requests up to ``total``, or as many as fit before ``deadline``
        (``time.time()``, shared with the parent); :returns: how many there are"""
        from onion_app.store import requests as rows

        needs: dict[str, tuple[Any, ...]] = {}
        for sealed in self.pool.imap(_seal_batch, self._batches(total - self.made, needs)):
            if time.time() > deadline:
                break
            for public_id, body, requester_x25519, requester_mlkem, readers in sealed:
                skills, languages, urgency = needs.pop(public_id)
                request_id = rows.create_request(
                    self.conn, requester_id=self.requester_id, public_id=public_id,
                    urgency=urgency, region="unsaid", skills=skills, languages=languages,
                    body=body, readers=[rows.Reader(*r) for r in readers],
                    requester_key=requester_x25519, requester_key_version=2,
                    requester_mlkem_key=requester_mlkem, matched_pool=self.pool_version)
                end = self.ends.random()
                if end < ENDED_SHARE:  # the store call, and triggers, the app uses
                    rows.set_status(self.conn, request_id,
                                    "resolved" if end < ENDED_SHARE * 2 / 3 else "closed")
            self.made += len(sealed)
            self.conn.commit()
        # What a running server's writes do as they go: the log folded into
        # the file, so that the pages measured next are read from one place.
        self.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return self.made

    def close(self) -> None:
        # terminate, not close: a build stopped at the budget leaves batches queued.
        self.pool.terminate()
        self.pool.join()
        self.database.close()


def _build(config: Any, keys: dict[int, tuple[bytes, bytes]], requester_id: int,
           orders: Any, wipe: bool) -> None:
    """The builder process: grows the data set to each total it is sent."""
    builder = Builder(config, keys, requester_id, wipe)
    try:
        while (order := orders.recv()) is not None:
            total, deadline = order
            orders.send(builder.grow_to(total, deadline))
    finally:
        builder.close()


@dataclasses.dataclass
class Stage:
    requests: int
    reads: int
    page: float
    skill: float
    skill_count: str
    last: float
    closed: float
    bare: float


def measure(config: Any, volunteers: list[hb.Volunteer], runs: int, made: int,
            locked: bool) -> Stage:
    """Whole-page p50s, in ms, for the busiest volunteer: the newest page,
    the page filtered by a skill, and the last page."""
    from onion_app import create_app
    from onion_app.store import caseload
    from onion_app.web.state import Runtime, state_of

    runtime = Runtime.for_config(config, memory_locked=locked)
    conn = runtime.database.open()
    try:
        busiest = conn.execute(
            "SELECT volunteer_id, count(*) AS n FROM request_readers"
            " WHERE volunteer_id IS NOT NULL"
            " GROUP BY volunteer_id ORDER BY n DESC LIMIT 1").fetchone()
        volunteer_id, reads = int(busiest[0]), int(busiest[1])
        public_id = conn.execute("SELECT public_id FROM volunteers WHERE id = ?",
                                 (volunteer_id,)).fetchone()[0]
        skill = hb.SKILL_CODES[0]
        counted = caseload.dashboard(conn, volunteer_id, caseload.Filters(skill=skill))
        skill_count = (f"more than {caseload.COUNT_LIMIT:,}" if counted.more
                       else f"{counted.total:,}")
    finally:
        conn.close()
    app = create_app("staff", config, runtime)
    volunteer = next(v for v in volunteers if v.id == volunteer_id)
    client = hb.signed_in(app, "volunteer", volunteer_id, private_key=volunteer.key,
                          account_ref=public_id)

    paths = ["/dashboard", f"/dashboard?skill={skill}", "/dashboard?oldest=1",
             "/dashboard?status=closed"]
    # Interleaved, so that whatever else the machine does falls on all of them.
    # Also the CPU time this process spent on each: on a shared machine the
    # wall time grows with the load, the CPU time much less.
    times: dict[str, list[float]] = {path: [] for path in paths}
    cpu: dict[str, list[float]] = {path: [] for path in paths}
    for run in range(-3, runs):
        for path in paths:
            start, start_cpu = time.perf_counter(), time.process_time()
            hb.ok(client.get(path), path)
            if run >= 0:
                times[path].append((time.perf_counter() - start) * 1000)
                cpu[path].append((time.process_time() - start_cpu) * 1000)
    page, filtered, last, closed = (times[path] for path in paths)
    bare = hb.bare_page_ms()
    state_of(app).runtime.database.close()  # the app's kept connections
    stage = Stage(made, reads, hb.p50(page), hb.p50(filtered), skill_count, hb.p50(last),
                  hb.p50(closed), bare)
    print(f"  busiest volunteer reads {reads:,}: p50 (p90) whole page {stage.page:.2f} "
          f"({hb.p90(page):.2f}) ms; skill {skill} ({skill_count}) {stage.skill:.2f} "
          f"({hb.p90(filtered):.2f}) ms; last page {stage.last:.2f} ({hb.p90(last):.2f}) ms; "
          f"closed {stage.closed:.2f} ({hb.p90(closed):.2f}) ms; "
          f"bare Flask page {bare:.2f} ms", flush=True)
    print("  CPU time p50 of the same: " + "; ".join(
        f"{hb.p50(cpu[path]):.2f} ms" for path in paths) + f"; {hb.load()}", flush=True)
    return stage


def _row(name: str, stages: list[Stage], figure: str, complete: bool,
         flat: bool = True) -> None:
    """A row of figures by size; ``flat``: whether the goal asks the same work
    to cost the same at every size."""
    values = [getattr(s, figure) for s in stages]
    growth = values[-1] / values[0]
    sizes = " / ".join(f"{v:.1f} ms at {s.requests:,}"
                       for v, s in zip(values, stages, strict=True))
    hb.row(name, sizes + f" (x{growth:.1f}; bare Flask page "
           + " / ".join(f"{s.bare:.2f}" for s in stages) + " ms)",
           f"<= {GOAL_MS:g} ms" + (", flat" if flat else ""),
           max(values) <= GOAL_MS and (growth < 1.5 or not flat) and complete)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stages", default="1000,10000,100000")
    parser.add_argument("--volunteers", type=int, default=1_000)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--budget", type=float, default=BUILD_GOAL_S,
                        help="seconds of building (volunteers included) after which it "
                             "measures what it has")
    parser.add_argument("--wipe-memory", action="store_true",
                        help="build with cipher_memory_security on, as production writes")
    args = parser.parse_args()
    stages = [int(stage) for stage in args.stages.split(",")]
    measured: list[Stage] = []
    locked, status = hb.guard_as_served()
    print(f"as served: {status}", flush=True)
    with hb.instance() as config:
        began = time.perf_counter()
        deadline = time.time() + args.budget
        from onion_app.store import Database

        with Database(config, memory_security=not locked).connect() as conn:
            volunteers = hb.add_volunteers(conn, args.volunteers, rng=hb.random.Random(7))
            requester_id, _ = hb.add_requester(conn)
            conn.commit()
        setup = time.perf_counter() - began
        print(f"{args.volunteers:,} volunteers with hybrid keys: {setup:.1f} s", flush=True)
        keys = {v.id: (bytes(v.key.public_key.x25519), v.key.public_key.mlkem)
                for v in volunteers}
        context = multiprocessing.get_context("spawn")
        mine, theirs = context.Pipe()
        builder = context.Process(target=_build, args=(config, keys, requester_id, theirs,
                                                        args.wipe_memory))
        builder.start()
        building = setup
        try:
            for stage in stages:
                started = time.perf_counter()
                mine.send((stage, deadline))
                made = mine.recv()
                took = time.perf_counter() - started
                building += took
                size = config.db_path.stat().st_size / 2**20
                print(f"{made:>7,} requests, {args.volunteers:,} volunteers: built in "
                      f"{building:6.1f} s so far ({took:.1f} s this stage, "
                      f"{(made - (measured[-1].requests if measured else 0)) / took:.0f}"
                      f" requests/s), database {size:,.0f} MiB", flush=True)
                if made < stage:
                    print(f"  stopped short of {stage:,}: the build budget of "
                          f"{args.budget:.0f} s is spent", flush=True)
                # The build's own writes reach the disk before anything is
                # timed: the pages measured must not queue behind them.
                os.sync()
                measured.append(measure(config, volunteers, args.runs, made, locked))
                if made < stage:
                    break
        finally:
            mine.send(None)
            builder.join()
    complete = measured[-1].requests == stages[-1]
    _row("whole /dashboard p50, busiest volunteer, 1,000 volunteers", measured, "page", complete)
    _row(f"/dashboard?skill={hb.SKILL_CODES[0]} p50, same volunteer", measured, "skill",
         complete)
    _row("last /dashboard page p50, same volunteer", measured, "last", complete)
    # Not the same work at each size: at 1,000 requests the busiest volunteer
    # holds about ten closed ones, fewer than the page's twenty titles.
    _row("/dashboard?status=closed p50, same volunteer", measured, "closed", complete,
         flat=False)
    hb.row(f"building {stages[-1]:,} sealed requests (1,000 volunteers included)",
           f"{building:.0f} s" + ("" if complete
                                  else f" for {measured[-1].requests:,} (stopped at the budget)"),
           f"<= {BUILD_GOAL_S:g} s", building <= BUILD_GOAL_S and complete)
    return 0


if __name__ == "__main__":
    sys.exit(main())
