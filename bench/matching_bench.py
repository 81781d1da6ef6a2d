"""How long does matching take at 10, 100, 1,000 and 10,000 volunteers?

Builds a real SQLCipher database per size (random skills, languages, claims
and idle days, as tests/test_store_matching.py does), then times choosing the
volunteers for random requests two ways in the same run: the old way (every
candidate fetched, ranked in Python: ``volunteers.candidates`` + ``rank``)
and the new one (filter, order and ``LIMIT k`` in SQL: ``store.matching``).
Each figure is the median over the requests, in milliseconds; the two ways
are checked to choose the same volunteers.

    .venv/bin/python bench/matching_bench.py [--requests N] [--limit K]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from onion_app.config import Config
from onion_app.domain.matching import Needs, rank
from onion_app.domain.taxonomy import LANGUAGES, SKILLS
from onion_app.store import Database, matching, volunteers
from onion_app.store import requests as rows
from onion_app.store.connection import Connection

SIZES = (10, 100, 1_000, 10_000)
OLD_RUNS_AT_10K = 10
CHEAP = {"HAVEN_KDF_OPSLIMIT": "1", "HAVEN_KDF_MEMLIMIT_KIB": "8",
         "HAVEN_DB_KDF_OPSLIMIT": "1", "HAVEN_DB_KDF_MEMLIMIT_KIB": "8"}


def build(conn: Connection, rng: random.Random, n: int) -> None:
    skills, languages = list(SKILLS), list(LANGUAGES)[:12]
    days = [f"2026-0{m}-1{d}" for m in range(1, 10) for d in range(10)]
    for number in range(n):
        volunteer_id = conn.execute(
            "INSERT INTO volunteers (public_id, handle, public_key, status, available,"
            " created_on, last_active_on) VALUES (?, ?, ?, ?, ?, '2026-01-01', ?)",
            (f"p{number}", f"v{number}", rng.randbytes(32),
             "vetted" if rng.random() < 0.9 else "applied", int(rng.random() < 0.9),
             rng.choice(days))).lastrowid
        conn.executemany("INSERT INTO volunteer_skills VALUES (?, ?)",
                         [(volunteer_id, s) for s in rng.sample(skills, 3)])
        conn.executemany("INSERT INTO volunteer_languages VALUES (?, ?)",
                         [(volunteer_id, s) for s in rng.sample(languages, 2)])
    requester_id = rows.create_requester(conn, rng.randbytes(32), rng.randbytes(32))
    # About one open claim per volunteer, unevenly spread; the claim counts
    # are kept by migration 0013's triggers, as in production.
    conn.executemany(
        "INSERT INTO requests (public_id, requester_id, urgency, region, claimed_by,"
        " created_on, updated_on) VALUES (?, ?, 'normal', 'unsaid', ?, '2026-01-01',"
        " '2026-01-01')",
        [(rows.new_public_id(), requester_id, rng.randint(1, n)) for _ in range(n)])
    conn.commit()


def timed(work: object) -> float:
    start = time.perf_counter()
    work()  # type: ignore[operator]
    return (time.perf_counter() - start) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--limit", type=int, default=10)
    args = parser.parse_args()
    rng = random.Random(16)  # noqa: S311  (spreading test data, not a secret)
    skills, languages = list(SKILLS), list(LANGUAGES)[:12]
    print(f"matching a request to {args.limit} volunteers, median of {args.requests} "
          f"random requests (old: of {OLD_RUNS_AT_10K} at 10,000, where each takes about a "
          "second), in ms")
    print("load average at start: {:.1f} {:.1f} {:.1f}".format(*os.getloadavg()))
    print(f"{'volunteers':>10} {'old (Python)':>13} {'new (SQL)':>10} {'same picks':>11}")
    for n in SIZES:
        with tempfile.TemporaryDirectory() as folder:
            config = Config.from_env({"HAVEN_INSTANCE": str(Path(folder) / "i"), **CHEAP})
            database = Database(config)
            database.init()
            with database.connect() as conn:
                build(conn, rng, n)
                old_times, new_times, same = [], [], 0
                for _ in range(args.requests):
                    needs = Needs(frozenset(rng.sample(skills, 2)),
                                  frozenset(rng.sample(languages, 2)))
                    picked: dict[str, list[int]] = {}

                    def old(needs: Needs = needs, picked: dict[str, list[int]] = picked) -> None:
                        picked["old"] = [c.volunteer_id for c in rank(
                            needs, volunteers.candidates(conn, needs.skills), args.limit)]

                    def new(needs: Needs = needs, picked: dict[str, list[int]] = picked) -> None:
                        picked["new"] = [c.volunteer_id for c in matching.ranked(
                            conn, needs.skills, needs.languages, args.limit)]

                    new_times.append(timed(new))
                    if n < 10_000 or len(old_times) < OLD_RUNS_AT_10K:
                        old_times.append(timed(old))
                        same += picked["old"] == picked["new"]
        print(f"{n:>10,} {statistics.median(old_times):>13.2f} "
              f"{statistics.median(new_times):>10.2f} {same:>5}/{len(old_times)}")


if __name__ == "__main__":
    main()
