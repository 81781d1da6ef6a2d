"""How much memory can a login flood make Haven take?

Starts a real Haven (production argon2id costs, the database under a
passphrase so its key is stretched too), then runs, for a few seconds, CLIENTS
concurrent unknown-handle staff logins and as many requester logins with
random codenames, both apps in the one process. Prints the process's peak
resident memory (VmHWM) after start-up (the baseline, same run) and after the
flood, beside the bound issue 12 sets:

    512 MiB + HAVEN_KDF_CONCURRENCY x HAVEN_KDF_MEMLIMIT_KIB

    .venv/bin/python bench/memory_peak.py [--clients 8] [--seconds 10]
"""

from __future__ import annotations

import argparse
import collections
import secrets
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.local_haven import LocalHaven, local_haven, row
from crypto.codename import generate_codename

IN_BENCH_SUITE = True

CONCURRENCY = 2
MEMLIMIT_KIB = 256 * 1024


def staff_logins(haven: LocalHaven, stop: threading.Event,
                 statuses: collections.Counter[str]) -> None:
    client = haven.client("staff", timeout=60)
    try:
        token = client.token("/login")
    except (OSError, RuntimeError) as error:
        statuses[f"staff: no form ({type(error).__name__})"] += 1
        return
    while not stop.is_set():
        handle = "nobody" + secrets.token_hex(4)  # a fresh unknown handle: never held
        try:
            status, _, _ = client.post("/login", {"csrf_token": token, "handle": handle,
                                                  "passphrase": "not the passphrase",
                                                  "code": "123456"})
            statuses[f"staff {status}"] += 1
        except OSError as error:
            statuses[f"staff {type(error).__name__}"] += 1


def requester_logins(haven: LocalHaven, stop: threading.Event,
                     statuses: collections.Counter[str]) -> None:
    client = haven.client("public", timeout=60)
    try:
        token = client.token("/login")
    except (OSError, RuntimeError) as error:
        statuses[f"public: no form ({type(error).__name__})"] += 1
        return
    while not stop.is_set():
        try:
            status, _, _ = client.post("/login", {"csrf_token": token,
                                                  "codename": generate_codename()})
            statuses[f"public {status}"] += 1
        except OSError as error:
            statuses[f"public {type(error).__name__}"] += 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=8, help="per app")
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args()
    env = {"HAVEN_DB_PASSPHRASE": secrets.token_urlsafe(24),
           "HAVEN_KDF_CONCURRENCY": str(CONCURRENCY),
           "HAVEN_KDF_MEMLIMIT_KIB": str(MEMLIMIT_KIB)}
    with local_haven(**env) as haven:
        started = haven.status("VmHWM")
        stop = threading.Event()
        statuses: collections.Counter[str] = collections.Counter()
        clients = [threading.Thread(target=work, args=(haven, stop, statuses), daemon=True)
                   for work in (staff_logins, requester_logins) for _ in range(args.clients)]
        for thread in clients:
            thread.start()
        time.sleep(args.seconds)
        stop.set()
        for thread in clients:
            thread.join(timeout=70)
        peak = haven.status("VmHWM")
    bound = 512 * 1024 + CONCURRENCY * MEMLIMIT_KIB
    print(f"memory peak: {args.clients} unknown-handle staff logins and {args.clients} "
          f"requester logins at once for {args.seconds:.0f} s")
    print(f"  VmHWM after start-up (baseline, incl. the database key): {started / 1024:7.0f} MiB")
    print(f"  VmHWM after the flood:                                   {peak / 1024:7.0f} MiB")
    print(f"  bound: 512 MiB + {CONCURRENCY} x {MEMLIMIT_KIB // 1024} MiB = "
          f"{bound / 1024:.0f} MiB -> {'within' if peak <= bound else 'OVER'}")
    print(f"  answers: {dict(sorted(statuses.items()))}")
    row("peak memory, unknown-handle and requester logins", f"{peak / 1024:.0f} MiB "
        f"(after start: {started / 1024:.0f} MiB)", f"<= {bound / 1024:.0f} MiB", peak <= bound)


if __name__ == "__main__":
    main()
