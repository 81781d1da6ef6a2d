"""How many fuzzed requests get a 5xx, or an answer without Haven's headers,
from a real waitress?

Builds an instance in a temporary folder (cheap argon2id: this counts
failures, it times nothing), signs people in through their real journeys
(tests/fuzz_cases.py), serves both apps with Haven's own waitress set-up on
loopback ports, and sends each case as raw bytes on its own connection: every
route, every method, any content type, values with NULs, lone surrogates,
RTL marks, huge and nested values, malformed cookies. Half the cases carry
the person's session and a valid CSRF token, so their values reach the forms.

    .venv/bin/python bench/fuzz.py [--cases N]
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import logging
import socket
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from hypothesis import HealthCheck, Phase, given, settings

from onion_app import create_app
from onion_app.config import Config
from onion_app.serving import serve
from onion_app.web.state import Runtime
from tests.fuzz_cases import Case, World, build_world, cases, problems
from tests.haven_process import CHEAP_KDF

CHUNK = 500


def send(port: int, case: Case) -> tuple[int, dict[str, str], str]:
    """One case on a fresh connection; the status, headers and content type."""
    lines = [f"{case.method} {case.path} HTTP/1.1", *(f"{k}: {v}" for k, v in case.headers),
             "Connection: close"]
    if case.body:
        lines.append(f"Content-Length: {len(case.body)}")
    raw = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1", "replace") + case.body
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        # Refused before the whole body was read: the answer is still there.
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            sock.sendall(raw)
        received = bytearray()
        while b"\r\n\r\n" not in received:
            try:
                chunk = sock.recv(65536)
            except ConnectionResetError:
                break
            if not chunk:
                break
            received += chunk
    head = bytes(received).split(b"\r\n\r\n", 1)[0].decode("latin-1")
    if not head:
        return 0, {}, ""
    status_line, *header_lines = head.split("\r\n")
    headers = {}
    for line in header_lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return int(status_line.split()[1]), headers, headers.get("content-type", "")


def run(world: World, ports: dict[str, int], count: int, past_the_gates: bool,
        tally: collections.Counter[str], failures: list[str]) -> None:
    @settings(max_examples=count, phases=(Phase.generate,), deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(cases(world, past_the_gates=past_the_gates))
    def one(case: Case) -> None:
        status, headers, content_type = send(ports[case.role], case)
        tally["sent"] += 1
        if status == 0:
            tally["no answer"] += 1
            return
        tally[f"{status // 100}xx"] += 1
        found = problems(status, headers, content_type)
        if found:
            tally["with a problem"] += 1
            if len(failures) < 10:
                failures.append(f"{status} {found}: {case!r}")

    one()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=10_000)
    args = parser.parse_args()
    # Haven logs an unexpected error in one line; a fuzz makes many.
    logging.disable(logging.ERROR)
    with tempfile.TemporaryDirectory(prefix="haven-fuzz-") as folder:
        config = Config.from_env({"HAVEN_INSTANCE": f"{folder}/instance",
                                  "HAVEN_PUBLIC_PORT": "0", "HAVEN_STAFF_PORT": "0",
                                  **CHEAP_KDF})
        runtime = Runtime.for_config(config)
        runtime.database.init()
        apps = {role: create_app(role, config, runtime) for role in ("public", "staff")}
        world = build_world(apps["public"], apps["staff"])
        served = serve.start(apps, "127.0.0.1", ports={"public": 0, "staff": 0})
        ports = {role: served.servers[role].effective_port for role in apps}
        tally: collections.Counter[str] = collections.Counter()
        failures: list[str] = []
        started = time.monotonic()
        try:
            # In runs of CHUNK: hypothesis keeps a record of every case of a
            # run, which would grow to gigabytes over ten thousand.
            left = args.cases
            while left > 0:
                size = min(CHUNK, left)
                run(world, ports, size - size // 2, False, tally, failures)
                run(world, ports, size // 2, True, tally, failures)
                left -= size
                print(f"  ... {args.cases - left} cases, {tally['5xx']} 5xx so far", flush=True)
        finally:
            served.close()
        took = time.monotonic() - started
    print(f"fuzz: {tally['sent']} requests to a real waitress in {took:.0f} s")
    for kind in ("2xx", "3xx", "4xx", "5xx", "no answer", "with a problem"):
        print(f"  {kind:>15}: {tally[kind]}")
    for failure in failures:
        print(f"  e.g. {failure[:400]}")
    print(f"5xx: {tally['5xx']} (goal 0)")


if __name__ == "__main__":
    main()
