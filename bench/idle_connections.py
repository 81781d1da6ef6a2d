"""Can idle connections lock a new visitor out?

Starts a real Haven, loads the landing page as a new visitor (the baseline),
then opens IDLE connections to the public app that stay idle (half of them
silent, half with a request sent only in part, as a slow-loris client does)
and loads the landing page again as a new visitor, a few times, while they
stay open. Goal (issue 12): the landing page still loads with 200 idle
connections open.

    .venv/bin/python bench/idle_connections.py [--idle 200] [--timeout 20]
"""

from __future__ import annotations

import argparse
import socket
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.local_haven import LocalHaven, local_haven, row, summary

IN_BENCH_SUITE = True

HALF_SENT = b"GET / HTTP/1.1\r\nHost: haven.onion\r\nUser-Agent: slow"


def visits(haven: LocalHaven, count: int, timeout: float) -> tuple[list[float], list[str]]:
    """``count`` new visitors loading /, one after another."""
    times: list[float] = []
    failures: list[str] = []
    for _ in range(count):
        client = haven.client(timeout=timeout)
        start = time.monotonic()
        try:
            status, _, _ = client.get("/")
        except OSError as error:
            failures.append(f"{type(error).__name__} after {time.monotonic() - start:.1f} s")
            continue
        if status == 200:
            times.append(time.monotonic() - start)
        else:
            failures.append(f"HTTP {status}")
    return times, failures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--idle", type=int, default=200)
    parser.add_argument("--timeout", type=float, default=20.0,
                        help="seconds a new visitor waits for the page")
    args = parser.parse_args()
    with local_haven() as haven:
        quiet, quiet_failures = visits(haven, 20, args.timeout)
        idle: list[socket.socket] = []
        refused = 0
        try:
            for number in range(args.idle):
                try:
                    sock = socket.create_connection(("127.0.0.1", haven.ports["public"]),
                                                    timeout=5)
                except OSError:
                    refused += 1
                    continue
                if number % 2:
                    sock.sendall(HALF_SENT)
                idle.append(sock)
            time.sleep(1)  # the server has accepted what it will accept
            crowded, crowded_failures = visits(haven, 3, args.timeout)
            # Sent after the visits: the connections really were idle meanwhile.
            still_open = sum(_still_open(sock) for sock in idle)
        finally:
            for sock in idle:
                sock.close()
    print(f"idle connections: {args.idle} opened to the public app "
          f"({refused} refused at connect), half silent, half sending a request in part")
    print(f"  new visitor's landing page, no idle connections (baseline): {summary(quiet)}")
    if quiet_failures:
        print(f"    failures: {quiet_failures}")
    print(f"  new visitor's landing page, with them open:                 {summary(crowded)}")
    if crowded_failures:
        print(f"    failures (each waited up to {args.timeout:.0f} s): {crowded_failures}")
    print(f"  idle connections not closed by the server at the end: {still_open}")
    worst = f"slowest {max(crowded):.2f} s" if crowded else "no answer"
    row(f"new visitor with {args.idle} idle connections open", f"{len(crowded)} of 3 loaded, "
        f"{worst}", "the landing page loads", not crowded_failures)


def _still_open(sock: socket.socket) -> bool:
    """Whether the server has not closed this connection (nothing to read, no EOF)."""
    sock.setblocking(False)
    try:
        return sock.recv(1, socket.MSG_PEEK) != b""
    except BlockingIOError:
        return True
    except OSError:
        return False


if __name__ == "__main__":
    main()
