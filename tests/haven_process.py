"""Haven's own ``run.py`` as a real process, for tests that need the whole stack."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ADDRESS = re.compile(r"^(public|staff) onion .*: http://([a-z2-7]{56}\.onion)/$")
PRIVATE_KEY = re.compile(r"^Your private key:\s+([A-Z2-7]{52})$")


# Every argon2id in the tests costs 1 pass over 8 KiB, here and only here: the
# tests exercise the derivations, not their cost (test_config.py checks that
# production's costs are the real ones).
CHEAP_KDF = {
    "HAVEN_KDF_OPSLIMIT": "1",
    "HAVEN_KDF_MEMLIMIT_KIB": "8",
    "HAVEN_DB_KDF_OPSLIMIT": "1",
    "HAVEN_DB_KDF_MEMLIMIT_KIB": "8",
}


def haven_env(instance: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HAVEN_")}
    env.update(CHEAP_KDF, HAVEN_INSTANCE=str(instance), HAVEN_BOOTSTRAP_WAIT="0",
               PYTHONUNBUFFERED="1")
    env.update(extra)
    return env


@dataclass
class Haven:
    process: subprocess.Popen[str]
    addresses: dict[str, str]
    staff_private_key: str | None
    lines: list[str] = field(default_factory=list)

    def output(self) -> str:
        return "\n".join(self.lines)

    def wait_for_line(self, text: str, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if any(text in line for line in self.lines):
                return
            time.sleep(0.1)
        raise AssertionError(f"run.py never printed {text!r}:\n{self.output()}")


@contextmanager
def running_haven(instance: Path, timeout: float = 60.0, ready: str = "serving;",
                  **env: str) -> Iterator[Haven]:
    """Starts ``python run.py`` and yields once it printed both onion addresses
    and then a line containing ``ready``."""
    process = subprocess.Popen(
        [sys.executable, str(ROOT / "run.py")], env=haven_env(instance, **env),
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    haven = Haven(process, {}, None)
    assert process.stdout is not None
    stdout = process.stdout

    def read() -> None:
        for line in stdout:
            haven.lines.append(line.rstrip("\n"))

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and process.poll() is None:
            for line in list(haven.lines):
                if match := ADDRESS.match(line):
                    haven.addresses[match.group(1)] = match.group(2)
                if match := PRIVATE_KEY.match(line):
                    haven.staff_private_key = match.group(1)
            if len(haven.addresses) == 2 and any(ready in line for line in haven.lines):
                break
            time.sleep(0.1)
        else:
            raise AssertionError(f"run.py did not start:\n{haven.output()}")
        yield haven
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
        reader.join(timeout=10)
        stdout.close()


def run_command(instance: Path, *args: str, stdin: str = "", **env: str
                ) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(ROOT / "run.py"), *args],
                          env=haven_env(instance, **env), input=stdin, capture_output=True,
                          text=True, timeout=120, check=False)
