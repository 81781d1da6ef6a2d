"""Does a login flood take the public site down?

Starts a real Haven (production argon2id costs), makes one requester account,
then measures, in the same run:

- the landing page's latency with nothing else going on (the baseline);
- the landing page's latency while FLOODERS clients send ``POST /login`` with
  random valid-looking codenames as fast as they are answered;
- meanwhile, one real requester signing in every second: how long until the
  answer, and whether it was a success (302) or the busy page (429).

The goal (issue 12): landing p50 <= 50 ms and p99 <= 500 ms under the flood;
every real login answered (success or busy page) within 2 s.

    .venv/bin/python bench/login_flood.py [--flooders 100] [--seconds 20]
"""

from __future__ import annotations

import argparse
import collections
import statistics
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.local_haven import LocalHaven, local_haven, new_requester, percentile, row, summary
from crypto.codename import generate_codename

IN_BENCH_SUITE = True


def landing_times(haven: LocalHaven, seconds: float, failures: collections.Counter[str]
                  ) -> list[float]:
    """A new visitor loading / again and again (one connection each) for ``seconds``."""
    client = haven.client(timeout=30)
    times: list[float] = []
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        start = time.monotonic()
        try:
            status, _, _ = client.get("/")
        except OSError as error:
            failures[type(error).__name__] += 1
            continue
        if status == 200:
            times.append(time.monotonic() - start)
        else:
            failures[str(status)] += 1
        time.sleep(0.02)
    return times


def flooder(haven: LocalHaven, stop: threading.Event, statuses: collections.Counter[str]
            ) -> None:
    client = haven.client(timeout=30)
    try:
        token = client.token("/login")
    except (OSError, RuntimeError) as error:
        statuses[f"no form ({type(error).__name__})"] += 1
        return
    while not stop.is_set():
        try:
            status, _, _ = client.post("/login", {"csrf_token": token,
                                                  "codename": generate_codename()})
            statuses[str(status)] += 1
        except OSError as error:
            statuses[type(error).__name__] += 1


def one_login(haven: LocalHaven, codename: str) -> tuple[str, float]:
    """A real requester signing in: the form, then the POST.

    :returns: what came back, and after how many seconds
    """
    client = haven.client(timeout=60)
    start = time.monotonic()
    try:
        token = client.token("/login")
        status, _, headers = client.post("/login", {"csrf_token": token,
                                                    "codename": codename})
        outcome = {302: "signed in", 429: "busy page"}.get(status, f"HTTP {status}")
        if status == 429 and "retry-after" not in headers:
            outcome += " (no Retry-After)"
    except (OSError, RuntimeError) as error:
        outcome = type(error).__name__
    return outcome, time.monotonic() - start


def real_logins(haven: LocalHaven, codename: str, stop: threading.Event,
                outcomes: list[tuple[str, float]]) -> None:
    """A real requester signing in once a second until ``stop``."""
    while not stop.is_set():
        outcomes.append(one_login(haven, codename))
        stop.wait(1.0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--flooders", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=20.0)
    args = parser.parse_args()
    with local_haven() as haven:
        codename = new_requester(haven)
        quiet_failures: collections.Counter[str] = collections.Counter()
        quiet = landing_times(haven, 5, quiet_failures)
        quiet_logins = [one_login(haven, codename) for _ in range(3)]

        stop = threading.Event()
        statuses: collections.Counter[str] = collections.Counter()
        flood = [threading.Thread(target=flooder, args=(haven, stop, statuses), daemon=True)
                 for _ in range(args.flooders)]
        for thread in flood:
            thread.start()
        time.sleep(2)  # every flooder has its form and is posting
        outcomes: list[tuple[str, float]] = []
        logins_stop = threading.Event()
        logins = threading.Thread(target=real_logins,
                                  args=(haven, codename, logins_stop, outcomes), daemon=True)
        logins.start()
        flooded_failures: collections.Counter[str] = collections.Counter()
        flooded = landing_times(haven, args.seconds, flooded_failures)
        logins_stop.set()
        logins.join(timeout=60)
        stop.set()
        for thread in flood:
            thread.join(timeout=35)
        still = sum(thread.is_alive() for thread in flood)

    print(f"login flood: {args.flooders} clients posting /login, production argon2id costs")
    print(f"  landing page, no flood (baseline): {summary(quiet)}")
    if quiet_failures:
        print(f"    failures: {dict(quiet_failures)}")
    print(f"  landing page, during the flood:    {summary(flooded)}")
    if flooded_failures:
        print(f"    failures: {dict(flooded_failures)}")
    print("  goal: p50 <= 50 ms, p99 <= 500 ms during the flood")
    print(f"  flood answers: {dict(sorted(statuses.items()))}"
          + (f" ({still} flooders still waiting at the end)" if still else ""))
    print("  real login (form + POST), no flood: "
          + ", ".join(f"{what} in {seconds:.2f} s" for what, seconds in quiet_logins))
    kinds = collections.Counter(what for what, _ in outcomes)
    slowest = max((seconds for _, seconds in outcomes), default=0.0)
    print(f"  real logins during the flood: {dict(kinds)}; slowest answer {slowest:.2f} s "
          f"(goal: each within 2 s)")
    if flooded:
        p50, p99 = statistics.median(flooded) * 1000, percentile(flooded, 0.99) * 1000
        row("landing page under a login flood", f"p50 {p50:.0f} ms, p99 {p99:.0f} ms "
            f"(quiet: p50 {statistics.median(quiet) * 1000:.0f} ms)", "p50 <= 50 ms, p99 <= 500 ms",
            p50 <= 50 and p99 <= 500)
    else:
        row("landing page under a login flood", "no answer", "p50 <= 50 ms, p99 <= 500 ms", False)
    answered = all(what in ("signed in", "busy page") for what, _ in outcomes)
    row("real login during the flood", f"slowest {slowest:.2f} s, {dict(kinds)}",
        "signed in or busy page within 2 s", bool(outcomes) and answered and slowest <= 2)


if __name__ == "__main__":
    main()
