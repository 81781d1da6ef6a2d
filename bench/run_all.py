"""Runs the bench suite: every ``bench/*.py`` with a line ``IN_BENCH_SUITE = True``.

A new bench joins the suite by carrying that line; it runs with no arguments,
so its defaults are what the suite measures. Each runs in its own process
(servers and databases of one never meet another's), alphabetically, under
a time limit; the ``ROW | ...`` lines they print are gathered into one table
at the end. ``make bench`` runs this.

    .venv/bin/python bench/run_all.py [NAME ...]   (only the benches named, e.g. http_bench)
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
MARK = re.compile(r"^IN_BENCH_SUITE\s*=\s*True\s*$", re.MULTILINE)
# One bench that hangs must not hold the suite past `make bench`'s budget.
LIMIT_SECONDS = int(os.environ.get("HAVEN_BENCH_LIMIT", "480"))


def suite(only: list[str]) -> list[Path]:
    found = [path for path in sorted(HERE.glob("*.py"))
             if path.name != Path(__file__).name and MARK.search(path.read_text())]
    if only:
        found = [path for path in found if path.stem in only]
    return found


def main() -> int:
    sys.path.insert(0, str(HERE))
    from havenbench import load, machine

    benches = suite(sys.argv[1:])
    print(f"Haven bench suite, {time.strftime('%Y-%m-%d')}, {machine()}")
    print(f"benches: {', '.join(path.stem for path in benches)}; {load()}", flush=True)
    rows: list[str] = []
    failed: list[str] = []
    start = time.monotonic()
    for path in benches:
        print(f"\n== {path.stem} ==", flush=True)
        began = time.monotonic()
        process = subprocess.Popen([sys.executable, str(path)], stdout=subprocess.PIPE,  # noqa: S603  (bench/ files)
                                   text=True, bufsize=1)
        # Killed at the limit even while it prints nothing.
        timer = threading.Timer(LIMIT_SECONDS, process.kill)
        timer.start()
        assert process.stdout is not None
        for line in process.stdout:
            print(line, end="", flush=True)
            if line.startswith("ROW |"):
                rows.append(line.removeprefix("ROW |").strip())
        code = process.wait()
        timer.cancel()
        if code != 0:
            failed.append(path.stem)
        print(f"({path.stem}: {time.monotonic() - began:.0f} s, exit {code})", flush=True)
    print(f"\n== summary ({time.monotonic() - start:.0f} s; {load()}) ==")
    print("| figure | measured | goal | |")
    print("|---|---|---|---|")
    for line in rows:
        print(f"| {line} |")
    if failed:
        print(f"failed: {', '.join(failed)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
