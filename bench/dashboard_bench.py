"""The volunteer dashboard as the number of requests grows: 1k, 10k, 100k.

Builds one real SQLCipher database in a temporary folder, in stages, with
1,000 volunteers holding hybrid keys. Every request is really sealed (hybrid
X25519 + ML-KEM stanzas) to its requester and the 10 volunteers Haven's own
ranking (``domain.matching.rank``) picks; the sealing runs in worker
processes, the storing through ``store.requests.create_request``. At each
stage it times, for the volunteer who reads the most requests, the dashboard
queries and the whole ``/dashboard`` page through the app (25 titles opened).

What is not Haven's per-request path: the candidate volunteers are read from
the database once and ranked in memory per combination of needs, since
nobody claims anything while the data set is built (so the ranking's inputs
do not change); ``bench/submission_bench.py`` measures the real path.

    .venv/bin/python bench/dashboard_bench.py [--stages 1000,10000,100000] [--runs 30]
"""

from __future__ import annotations

import argparse
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

_READERS: dict[int, Any] = {}


def _init_worker(keys: dict[int, tuple[bytes, bytes]]) -> None:
    from crypto.hybrid import HybridPublicKey

    _READERS.update({vid: HybridPublicKey.from_bytes(x, m) for vid, (x, m) in keys.items()})


def _seal_batch(batch: list[tuple[int, str, list[int]]]) -> list[tuple[str, bytes, Any,
                                                                       list[tuple[str, int | None,
                                                                                  bytes]]]]:
    """Seals a batch of requests in a worker: the same calls as ``submit_request``."""
    import secrets

    from crypto.envelope import seal
    from crypto.keys import fingerprint
    from crypto.requester import REQUEST_KEY_VERSION, derive_request_key
    from onion_app.domain import sealing

    out = []
    for number, public_id, chosen in batch:
        # A requester per request, as in life: the bench never opens them.
        requester_key = derive_request_key(secrets.token_bytes(32), public_id,
                                           version=REQUEST_KEY_VERSION).public_key
        text = sealing.RequestText(f"Request {number}", STORY, "Help.")
        by_fp = {fingerprint(_READERS[v].x25519): v for v in chosen}
        envelope = seal(text.encode(), [requester_key, *(_READERS[v] for v in chosen)],
                        sealing.request_ad(public_id), max_size=sealing.REQUEST_MAX_SIZE)
        readers = [(fp, by_fp.get(fp), stanza) for fp, stanza in envelope.stanzas.items()]
        out.append((public_id, envelope.body, requester_key, readers))
    return out


class Builder:
    """Grows the data set stage by stage, sealing in a pool of worker processes."""

    def __init__(self, config: Any, volunteers: int) -> None:
        from onion_app.store import Database
        from onion_app.store import volunteers as volunteer_rows

        self.database = Database(config)
        self.rng = hb.random.Random(7)
        self.conn = self.database.open()
        self.volunteers = hb.add_volunteers(self.conn, volunteers, rng=self.rng)
        self.requester_id, _ = hb.add_requester(self.conn)
        self.conn.commit()
        self.candidates = volunteer_rows.candidates(self.conn, hb.SKILL_CODES)
        self.ranked: dict[tuple[frozenset[str], frozenset[str]], list[int]] = {}
        self.made = 0
        keys = {v.id: (bytes(v.key.public_key.x25519), v.key.public_key.mlkem)
                for v in self.volunteers}
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

    def grow_to(self, total: int, deadline: float) -> float:
        """Adds requests up to ``total``, or as many as fit before ``deadline``
        (``time.monotonic()``); :returns: the seconds it took"""
        from crypto.hybrid import HybridPublicKey, x25519_public
        from onion_app.store import requests as rows

        start = time.perf_counter()
        needs: dict[str, tuple[Any, ...]] = {}
        for sealed in self.pool.imap(_seal_batch, self._batches(total - self.made, needs)):
            if time.monotonic() > deadline:
                break
            for public_id, body, requester_key, readers in sealed:
                skills, languages, urgency = needs.pop(public_id)
                rows.create_request(
                    self.conn, requester_id=self.requester_id, public_id=public_id,
                    urgency=urgency, region="unsaid", skills=skills, languages=languages,
                    body=body, readers=[rows.Reader(*r) for r in readers],
                    requester_key=bytes(x25519_public(requester_key)),
                    requester_key_version=2 if isinstance(requester_key, HybridPublicKey)
                    else 1,
                    requester_mlkem_key=(requester_key.mlkem
                                         if isinstance(requester_key, HybridPublicKey)
                                         else None))
            self.made += len(sealed)
            self.conn.commit()
        return time.perf_counter() - start

    def close(self) -> None:
        # terminate, not close: a build stopped at the budget leaves batches queued.
        self.pool.terminate()
        self.pool.join()
        self.conn.close()


def measure(config: Any, builder: Builder, runs: int) -> tuple[float, float]:
    """Dashboard query and whole page p50, in ms, for the busiest volunteer."""
    from onion_app import create_app
    from onion_app.store import caseload

    conn = builder.conn
    busiest = conn.execute(
        "SELECT volunteer_id, count(*) AS n FROM request_readers WHERE volunteer_id IS NOT NULL"
        " GROUP BY volunteer_id ORDER BY n DESC LIMIT 1").fetchone()
    volunteer_id, reads = int(busiest[0]), int(busiest[1])
    query = hb.timed(lambda: caseload.dashboard(conn, volunteer_id, caseload.Filters()), runs)
    skill = hb.timed(lambda: caseload.dashboard(conn, volunteer_id,
                                                caseload.Filters(skill=hb.SKILL_CODES[0])), runs)
    app = create_app("staff", config)
    volunteer = builder.volunteers[volunteer_id - 1]
    public_id = conn.execute("SELECT public_id FROM volunteers WHERE id = ?",
                             (volunteer_id,)).fetchone()[0]
    client = hb.signed_in(app, "volunteer", volunteer_id, private_key=volunteer.key,
                          account_ref=public_id)
    page = hb.timed(lambda: hb.ok(client.get("/dashboard"), "/dashboard"), runs)
    last = (reads + caseload.PAGE_SIZE - 1) // caseload.PAGE_SIZE
    deep = hb.timed(lambda: hb.ok(client.get(f"/dashboard?page={last}"), "/dashboard"), runs)
    print(f"  busiest volunteer reads {reads:,}: query p50 {hb.p50(query):6.2f} ms, "
          f"skill filter {hb.p50(skill):6.2f} ms; whole page p50 {hb.p50(page):6.2f} ms "
          f"(p90 {hb.p90(page):6.2f}), last page {hb.p50(deep):6.2f} ms; "
          f"bare Flask page {hb.bare_page_ms():.2f} ms", flush=True)
    return hb.p50(query), hb.p50(page)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stages", default="1000,10000,100000")
    parser.add_argument("--volunteers", type=int, default=1_000)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--budget", type=float, default=BUILD_GOAL_S,
                        help="seconds of building after which it measures what it has")
    args = parser.parse_args()
    deadline = time.monotonic() + args.budget
    stages = [int(stage) for stage in args.stages.split(",")]
    pages: dict[int, float] = {}
    building = 0.0
    measured: list[int] = []
    with hb.instance() as config:
        builder = Builder(config, args.volunteers)
        try:
            for stage in stages:
                took = builder.grow_to(stage, deadline)
                building += took
                size = config.db_path.stat().st_size / 2**20
                print(f"{builder.made:>7,} requests, {args.volunteers:,} volunteers: built in "
                      f"{building:6.1f} s so far ({took:.1f} s this stage), "
                      f"database {size:,.0f} MiB", flush=True)
                if builder.made < stage:
                    print(f"  stopped short of {stage:,}: the build budget of "
                          f"{args.budget:.0f} s is spent", flush=True)
                pages[builder.made] = measure(config, builder, args.runs)[1]
                measured.append(builder.made)
                if builder.made < stage:
                    break
        finally:
            builder.close()
    worst = max(pages.values())
    growth = pages[measured[-1]] / pages[measured[0]]
    hb.row("whole /dashboard p50, busiest volunteer, 1,000 volunteers",
           " / ".join(f"{pages[s]:.1f} ms at {s:,}" for s in measured) + f" (x{growth:.1f})",
           f"<= {GOAL_MS:g} ms, flat", worst <= GOAL_MS and growth < 1.5
           and measured[-1] == stages[-1])
    hb.row(f"building {stages[-1]:,} sealed requests",
           f"{building:.0f} s" + ("" if measured[-1] == stages[-1]
                                  else f" for {measured[-1]:,} (stopped at the budget)"),
           f"<= {BUILD_GOAL_S:g} s", building <= BUILD_GOAL_S and measured[-1] == stages[-1])
    return 0


if __name__ == "__main__":
    sys.exit(main())
