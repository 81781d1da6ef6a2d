"""A real Haven for the load scripts: ``run.py --local`` in a temporary instance.

The scripts measure the server as an operator runs it (waitress, both apps in
one process, production argon2id costs unless told otherwise), so they start
the real command and talk HTTP to it over loopback, as tor would.
"""

from __future__ import annotations

import http.client
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ADDRESS = re.compile(r"^(public|staff) \(.*\): http://127\.0\.0\.1:(\d+)/$")
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
CODENAME_SHOWN = re.compile(r'name="shown"[^>]*value="([^"]+)"')


@dataclass
class LocalHaven:
    """A running ``run.py --local``: its pid and its two loopback ports."""

    process: subprocess.Popen[str]
    ports: dict[str, int]
    lines: list[str] = field(default_factory=list)

    @property
    def pid(self) -> int:
        return self.process.pid

    def status(self, key: str) -> int:
        """A ``kB`` figure of /proc/PID/status (VmHWM, VmRSS), in KiB."""
        text = Path(f"/proc/{self.pid}/status").read_text()
        match = re.search(rf"^{key}:\s+(\d+) kB", text, re.MULTILINE)
        if match is None:
            raise RuntimeError(f"no {key} in /proc/{self.pid}/status")
        return int(match.group(1))

    def client(self, role: str = "public", timeout: float = 30.0) -> Client:
        return Client(self.ports[role], timeout)


@contextmanager
def local_haven(**env: str) -> Iterator[LocalHaven]:
    """Starts Haven in a fresh instance and stops it (SIGTERM) afterwards."""
    with tempfile.TemporaryDirectory(prefix="haven-bench-") as folder:
        environ = {k: v for k, v in os.environ.items() if not k.startswith("HAVEN_")}
        environ.update(HAVEN_INSTANCE=str(Path(folder) / "instance"), HAVEN_PUBLIC_PORT="0",
                       HAVEN_STAFF_PORT="0", PYTHONUNBUFFERED="1")
        environ.update(env)
        # Our own run.py under our own interpreter: nothing untrusted in the command.
        process = subprocess.Popen([sys.executable, str(ROOT / "run.py"), "--local"],  # noqa: S603
                                   env=environ, stdout=subprocess.PIPE,
                                   stderr=subprocess.STDOUT, text=True)
        haven = LocalHaven(process, {})
        assert process.stdout is not None
        stdout = process.stdout

        def read() -> None:
            for line in stdout:
                haven.lines.append(line.rstrip("\n"))

        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        try:
            deadline = time.monotonic() + 60
            while len(haven.ports) < 2:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("Haven did not start:\n" + "\n".join(haven.lines))
                for line in list(haven.lines):
                    if match := ADDRESS.match(line):
                        haven.ports[match.group(1)] = int(match.group(2))
                time.sleep(0.05)
            yield haven
        finally:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
            reader.join(timeout=5)
            stdout.close()


class Client:
    """One visitor: a cookie, one connection per request, no redirects followed."""

    def __init__(self, port: int, timeout: float) -> None:
        self.port = port
        self.timeout = timeout
        self.cookie = ""

    def request(self, method: str, path: str, body: str = "",
                headers: dict[str, str] | None = None) -> tuple[int, str, dict[str, str]]:
        """:returns: status, body text and headers of the answer
        :raises OSError: on a time-out or a refused connection"""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)
        try:
            sent = {"Host": "haven.onion", **(headers or {})}
            if self.cookie:
                sent["Cookie"] = self.cookie
            if body:
                sent["Content-Type"] = "application/x-www-form-urlencoded"
            conn.request(method, path, body=body.encode() if body else None, headers=sent)
            answer = conn.getresponse()
            text = answer.read().decode("utf-8", "replace")
            got = {k.lower(): v for k, v in answer.getheaders()}
            if "set-cookie" in got:
                self.cookie = got["set-cookie"].split(";", 1)[0]
            return answer.status, text, got
        finally:
            conn.close()

    def get(self, path: str) -> tuple[int, str, dict[str, str]]:
        return self.request("GET", path)

    def post(self, path: str, fields: dict[str, str]) -> tuple[int, str, dict[str, str]]:
        from urllib.parse import urlencode
        return self.request("POST", path, urlencode(fields))

    def token(self, path: str) -> str:
        """Loads a form page and returns its CSRF token (the cookie is kept)."""
        status, text, _ = self.get(path)
        match = CSRF.search(text)
        if status != 200 or match is None:
            raise RuntimeError(f"GET {path} gave {status} without a form")
        return match.group(1)


def new_requester(haven: LocalHaven) -> str:
    """Makes a requester account through /start and returns its codename."""
    client = haven.client()
    status, text, _ = client.get("/start")
    token, shown = CSRF.search(text), CODENAME_SHOWN.search(text)
    if status != 200 or token is None or shown is None:
        raise RuntimeError(f"/start gave {status}")
    for _attempt in range(60):
        status, _text, _ = client.post("/start", {"csrf_token": token.group(1),
                                                   "shown": shown.group(1),
                                                   "codename": shown.group(1)})
        if status == 302:
            return shown.group(1)
        time.sleep(0.5)  # busy: try again, as a person would
    raise RuntimeError(f"could not make an account: /start gave {status}")


def percentile(times: list[float], fraction: float) -> float:
    """The value below which ``fraction`` of ``times`` lie (nearest rank)."""
    ordered = sorted(times)
    index = min(len(ordered) - 1, max(0, round(fraction * len(ordered) + 0.5) - 1))
    return ordered[index]


def summary(times: list[float]) -> str:
    if not times:
        return "no answers"
    return (f"p50 {statistics.median(times) * 1000:8.1f} ms   "
            f"p99 {percentile(times, 0.99) * 1000:8.1f} ms   "
            f"max {max(times) * 1000:8.1f} ms   n={len(times)}")


def row(name: str, figure: str, goal: str, met: bool | None) -> None:
    """One row of the suite's summary table (``bench/run_all.py`` gathers them)."""
    verdict = "-" if met is None else ("met" if met else "NOT met")
    print(f"ROW | {name} | {figure} | {goal} | {verdict}", flush=True)
