"""How fast is a volunteer's dashboard with 10,000 requests and 1,000 volunteers?

Builds a real SQLCipher database in a temporary folder, seals every request to
its requester and up to ten matched volunteers with the real envelope code,
then times the dashboard query and the whole page through Flask's test client.

    .venv/bin/python bench/dashboard_bench.py [--requests N] [--volunteers N]
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import nacl.utils
from nacl.public import PrivateKey

from crypto.requester import RequesterKeys
from onion_app import create_app
from onion_app.config import Config
from onion_app.domain import sealing
from onion_app.domain.matching import Policy
from onion_app.domain.taxonomy import LANGUAGES, SKILLS
from onion_app.store import Database, caseload, staff
from onion_app.store import requests as rows
from onion_app.web import auth


def build(config: Config, n_requests: int, n_volunteers: int) -> tuple[int, PrivateKey]:
    rng = random.Random(7)  # noqa: S311  (spreading test data, not a secret)
    conn = Database(config).open()
    skills, languages = list(SKILLS), list(LANGUAGES)[:12]
    keys = []
    for number in range(n_volunteers):
        key = PrivateKey.generate()
        keys.append(key)
        volunteer_id = staff.create_volunteer(conn, staff.Application(
            handle=f"v{number}", public_key=bytes(key.public_key), wrapped_key=None,
            passphrase_hash=b"-", skills=frozenset(rng.sample(skills, 3)),
            languages=frozenset(rng.sample(languages, 2)), availability="weekly", bio="",
            references="", mlkem_public_key=None, handle_skeleton=f"v{number}"),
            status="vetted")
        assert volunteer_id == number + 1
    requester = RequesterKeys(lookup_id=b"L" * 32, private_key=PrivateKey.generate(),
                              master_secret=nacl.utils.random(32))
    requester_id = rows.create_requester(conn, requester.lookup_id, bytes(requester.public_key))
    story = "A story of a few paragraphs. " * 40
    for number in range(n_requests):
        new = sealing.NewRequest(
            sealing.RequestText(f"Request {number}", story, "Help."),
            frozenset(rng.sample(skills, 2)), frozenset(rng.sample(languages, 2)),
            "unsaid", "normal")
        sealing.submit_request(conn, requester_id, requester, new, Policy(10))
        if number % 500 == 0:
            conn.commit()
    conn.commit()
    busiest = conn.execute(
        "SELECT volunteer_id, count(*) AS n FROM request_readers WHERE volunteer_id IS NOT NULL"
        " GROUP BY volunteer_id ORDER BY n DESC LIMIT 1").fetchone()
    conn.close()
    return int(busiest[0]), keys[int(busiest[0]) - 1]


def timed(work: object, runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        work()  # type: ignore[operator]
        times.append((time.perf_counter() - start) * 1000)
    return times


def report(label: str, times: list[float]) -> None:
    print(f"{label:<44} median {statistics.median(times):7.2f} ms   "
          f"p90 {sorted(times)[int(len(times) * 0.9)]:7.2f} ms")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=10_000)
    parser.add_argument("--volunteers", type=int, default=1_000)
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        config = Config.from_env({"HAVEN_INSTANCE": folder, "HAVEN_KDF_OPSLIMIT": "1",
                                  "HAVEN_KDF_MEMLIMIT_KIB": "8"})
        Database(config).init()
        start = time.perf_counter()
        volunteer_id, key = build(config, args.requests, args.volunteers)
        print(f"built {args.requests:,} sealed requests and {args.volunteers:,} volunteers "
              f"in {time.perf_counter() - start:.1f} s; "
              f"database {config.db_path.stat().st_size / 2**20:.1f} MiB")
        conn = Database(config).open()
        _, total = caseload.dashboard(conn, volunteer_id, caseload.Filters())
        print(f"the busiest volunteer reads {total:,} requests")
        last_page = (total + caseload.PAGE_SIZE - 1) // caseload.PAGE_SIZE
        for label, filters in (("dashboard query, page 1", caseload.Filters()),
                               (f"dashboard query, page {last_page}",
                                caseload.Filters(page=last_page)),
                               ("dashboard query, skill filter",
                                caseload.Filters(skill="legal")),
                               ("dashboard query, unclaimed filter",
                                caseload.Filters(status="unclaimed"))):
            report(label, timed(lambda f=filters: caseload.dashboard(conn, volunteer_id, f),
                                args.runs))
        conn.close()
        app = create_app("staff", config)
        client = app.test_client()
        with app.test_request_context():
            sid = auth.store().create("volunteer", volunteer_id, key)
        with client.session_transaction() as cookie:
            cookie["sid"] = sid

        def page(path: str) -> None:
            response = client.get(path)
            if response.status_code != 200:
                raise SystemExit(f"{path} answered {response.status_code}")

        report("whole page /dashboard (25 titles decrypted)",
               timed(lambda: page("/dashboard"), args.runs))
        report(f"whole page /dashboard?page={last_page}",
               timed(lambda: page(f"/dashboard?page={last_page}"), args.runs))
    return 0


if __name__ == "__main__":
    sys.exit(main())
