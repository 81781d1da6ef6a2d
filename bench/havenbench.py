"""What the bench scripts share: a throw-away instance, real accounts, timing.

Not a benchmark itself (it has no ``IN_BENCH_SUITE`` line, so
``bench/run_all.py`` does not run it). Everything here goes through Haven's
own code: real SQLCipher files, real keys, real sealing; only the argon2id
cost is cheap, because no figure here measures a key derivation.
"""

from __future__ import annotations

import dataclasses
import os
import random
import statistics
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import nacl.utils  # noqa: E402
from nacl.public import PrivateKey  # noqa: E402

from crypto.hybrid import HybridPrivateKey, gain_mlkem  # noqa: E402
from crypto.requester import RequesterKeys  # noqa: E402
from onion_app.config import Config  # noqa: E402
from onion_app.domain.taxonomy import LANGUAGES, SKILLS  # noqa: E402
from onion_app.store import Connection, Database, staff  # noqa: E402
from onion_app.store import requests as rows  # noqa: E402

# Setting up never measures argon2id, so it is as cheap as it may be.
CHEAP_KDF = {"HAVEN_KDF_OPSLIMIT": "1", "HAVEN_KDF_MEMLIMIT_KIB": "8",
             "HAVEN_DB_KDF_OPSLIMIT": "1", "HAVEN_DB_KDF_MEMLIMIT_KIB": "8"}
# High enough that no bound of the submission path refuses a bench run.
NO_CAPS = {"HAVEN_OPEN_REQUESTS_PER_CODENAME": "100000",
           "HAVEN_SUBMISSIONS_PER_HOUR": "1000000"}

# Set once guard_as_served has kept this process's memory out of swap.
_GUARDED: list[bool] = []

SKILL_CODES = list(SKILLS)
LANGUAGE_CODES = list(LANGUAGES)[:12]


@contextmanager
def instance(extra: Mapping[str, str] | None = None) -> Iterator[Config]:
    """A new, initialised instance in a temporary folder, deleted afterwards."""
    with TemporaryDirectory(prefix="haven-bench-") as folder:
        env = {"HAVEN_INSTANCE": folder, **CHEAP_KDF, **NO_CAPS, **(extra or {})}
        config = Config.from_env(env)
        # As the process's runtime will open it: a connection with SQLCipher's
        # memory security on would leave it on for the whole process.
        Database(config, memory_security=not _GUARDED).init()
        yield config


def without_csrf(config: Config) -> Config:
    """For in-process POSTs through the test client (the pages measured by
    HTTP keep their CSRF tokens: they use ``config`` itself)."""
    return dataclasses.replace(config, csrf_enabled=False)


def without_caps(config: Config) -> Config:
    """For benches that send many requests from one codename: the caps on
    open requests and on submissions (issue 12) would refuse them after a
    few, and what is measured is the work of a submission, not its refusal."""
    return dataclasses.replace(config, open_requests_per_requester=1_000_000,
                               requests_per_codename_per_day=1_000_000,
                               submissions_per_hour=1_000_000_000)


@dataclasses.dataclass(frozen=True)
class Volunteer:
    id: int
    key: HybridPrivateKey


def add_volunteers(conn: Connection, count: int, *, rng: random.Random,
                   always: tuple[str, str] | None = None, start: int = 0,
                   hybrid: bool = True) -> list[Volunteer]:
    """``count`` vetted volunteers with hybrid keys and 3 skills, 2 languages each.

    :param always: a (skill, language) every one of them has, so that a
        request asking for it matches all of them
    :param hybrid: False for volunteers who have only an X25519 key (as
        before issue 17), who are sealed version-1 stanzas
    """
    made = []
    for number in range(start, start + count):
        key = gain_mlkem(PrivateKey.generate())
        skills = set(rng.sample(SKILL_CODES, 3))
        languages = set(rng.sample(LANGUAGE_CODES, 2))
        if always is not None:
            skills.add(always[0])
            languages.add(always[1])
        public = key.public_key
        volunteer_id = staff.create_volunteer(conn, staff.Application(
            handle=f"v{number}", public_key=bytes(public.x25519), wrapped_key=None,
            passphrase_hash=b"-", skills=frozenset(skills), languages=frozenset(languages),
            availability="weekly", bio="", references="",
            mlkem_public_key=public.mlkem if hybrid else None,
            handle_skeleton=f"v{number}"), status="vetted")
        made.append(Volunteer(volunteer_id, key))
    return made


def add_requester(conn: Connection) -> tuple[int, RequesterKeys]:
    """A requester account, with keys made directly (no codename derivation)."""
    keys = RequesterKeys(lookup_id=nacl.utils.random(32), private_key=PrivateKey.generate(),
                         master_secret=nacl.utils.random(32))
    return rows.create_requester(conn, keys.lookup_id, bytes(keys.public_key)), keys


def signed_in(app: Any, kind: str, account_id: int, *, private_key: Any = None,
              requester_keys: RequesterKeys | None = None, account_ref: str) -> Any:
    """A test client of ``app`` holding a session of this account."""
    from onion_app.web import auth

    client = app.test_client()
    with app.test_request_context():
        sid = auth.store().create(kind, account_id, private_key,
                                  requester_keys=requester_keys, account_ref=account_ref)
    with client.session_transaction() as cookie:
        cookie["sid"] = sid
    return client


def session_cookie(client: Any, app: Any) -> str:
    """``name=value`` of the session cookie ``client`` holds, for a load generator."""
    name = app.config["SESSION_COOKIE_NAME"]
    cookie = client.get_cookie(name)
    return f"{name}={cookie.value}"


def timed(work: Callable[[], object], runs: int, warmup: int = 3) -> list[float]:
    """Milliseconds of each of ``runs`` calls, after ``warmup`` untimed ones."""
    for _ in range(warmup):
        work()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        work()
        times.append((time.perf_counter() - start) * 1000)
    return times


_BARE: list[Any] = []


def bare_page_ms(runs: int = 200) -> float:
    """The same-run baseline of the in-process timings: p50 of a bare Flask
    app answering 3 KB of fixed HTML through its test client, on this machine,
    now. Printed beside each in-process figure, since the machine is shared:
    a figure that moves with it is noise, one that moves against it is not."""
    from flask import Flask

    if not _BARE:
        app = Flask("bare")
        body = b"<!doctype html><p>" + b"x" * 3000
        app.add_url_rule("/", "page", lambda: (body, 200, {"Content-Type": "text/html"}))
        _BARE.append(app.test_client())
    client = _BARE[0]
    return p50(timed(lambda: client.get("/"), runs, warmup=10))


def commit_ms(folder: Path, runs: int = 30) -> float:
    """The same-run baseline of the disk: p50 of one small committed insert
    into a plain SQLite file in WAL mode beside the bench's database (one
    fsync, as each of Haven's commits). On a shared disk this is what moves."""
    import sqlite3

    conn = sqlite3.connect(folder / "fsync-baseline.db", isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("CREATE TABLE IF NOT EXISTS t (x)")
    try:
        return p50(timed(lambda: conn.execute("INSERT INTO t VALUES (1)"), runs))
    finally:
        conn.close()
        for suffix in ("", "-wal", "-shm"):
            (folder / f"fsync-baseline.db{suffix}").unlink(missing_ok=True)


def p50(times: list[float]) -> float:
    return statistics.median(times)


def p90(times: list[float]) -> float:
    return sorted(times)[int(len(times) * 0.9)]


def ok(response: Any, path: str, status: int = 200) -> Any:
    if response.status_code != status:
        raise SystemExit(f"{path} answered {response.status_code}, not {status}")
    return response


def row(name: str, figure: str, goal: str, met: bool | None) -> None:
    """One row of the issue's table; ``bench/run_all.py`` gathers these lines."""
    verdict = "-" if met is None else ("met" if met else "NOT met")
    print(f"ROW | {name} | {figure} | {goal} | {verdict}", flush=True)


def machine() -> str:
    """What ran the bench, for the README: CPU model and count, Python."""
    model = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = " ".join(line.split(":", 1)[1].split())
                break
    except OSError:
        pass
    return (f"{os.cpu_count()} x {model}, Python {sys.version.split()[0]}")


def load() -> str:
    """The machine's load averages: on a shared machine, what the figures ran beside."""
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.1f} / {five:.1f} / {fifteen:.1f} (1 / 5 / 15 min)"


def guard_as_served() -> tuple[bool, str]:
    """Guards this process's memory as ``haven`` guards its own
    (:func:`onion_app.serving.memory.guard_process`: core dumps refused, all
    memory locked when the machine allows it), before any connection opens.

    :returns: whether the process's memory is kept out of swap (hand it to
        ``Runtime.for_config(..., memory_locked=...)``, which then leaves
        SQLCipher's own locking off, as a served process does), and the
        status line ``haven`` would print
    """
    from onion_app.serving import memory

    guard = memory.guard_process()
    if guard.swap_barred:
        _GUARDED.append(True)
    return guard.swap_barred, guard.status
