"""The serving process keeps its memory out of swap and out of core dumps.

Each check runs Haven (or the guard) in a process of its own: a memory lock
and SQLCipher's memory security both last for a whole process, and the test
process must keep neither.
"""

from __future__ import annotations

import os
import re
import resource
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from onion_app.serving import memory

ROOT = Path(__file__).resolve().parent.parent
# The status line `haven` prints when it locks its memory itself.
LOCKED = "memory: locked, kept out of swap"


def _can_lock_here() -> bool:
    """What this machine grants: CAP_IPC_LOCK, or no memory-lock limit (read
    here from /proc and getrlimit, not from the module under test)."""
    status = Path("/proc/self/status").read_text()
    effective = int(re.search(r"^CapEff:\s+([0-9a-f]+)$", status, re.MULTILINE).group(1), 16)
    unlimited = (resource.RLIM_INFINITY, resource.RLIM_INFINITY)
    return bool(effective >> 14 & 1) or resource.getrlimit(resource.RLIMIT_MEMLOCK) == unlimited


def _without_the_right_to_lock() -> list[str]:
    """A command prefix that runs a program with a 64 KiB memory-lock limit
    and no capabilities, as the unprivileged service user runs. Anyone may
    lower a limit (prlimit); root also drops its capabilities (setpriv)."""
    assert shutil.which("prlimit"), "util-linux, in every Debian"
    assert shutil.which("setpriv"), "util-linux, in every Debian"
    prefix = ["prlimit", "--memlock=65536:65536", "--"]
    if os.geteuid() == 0:
        prefix += ["setpriv", "--inh-caps=-all", "--bounding-set=-all", "--"]
    return prefix


def _status(pid: int, key: str) -> int:
    text = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(rf"^{key}:\s+(\d+) kB$", text, re.MULTILINE).group(1))


def _core_limit(pid: int) -> list[str]:
    line = next(line for line in Path(f"/proc/{pid}/limits").read_text().splitlines()
                if line.startswith("Max core file size"))
    return line.split()[4:6]


def _local_haven(tmp_path: Path, prefix: list[str]) -> Iterator[tuple[int, list[str]]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HAVEN_")}
    env.update(HAVEN_INSTANCE=str(tmp_path / "instance"), HAVEN_PUBLIC_PORT="0",
               HAVEN_STAFF_PORT="0", PYTHONUNBUFFERED="1")
    process = subprocess.Popen([*prefix, sys.executable, str(ROOT / "run.py"), "--local"],
                               env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               text=True)
    lines: list[str] = []
    try:
        assert process.stdout is not None
        for line in process.stdout:
            lines.append(line.rstrip("\n"))
            if line.startswith("serving on loopback"):
                break
        assert lines, "run.py printed nothing"
        assert lines[-1].startswith("serving on loopback"), lines
        yield process.pid, lines
    finally:
        process.terminate()
        process.communicate(timeout=30)


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[int, list[str]]]:
    yield from _local_haven(tmp_path, [])


@pytest.fixture
def served_unprivileged(tmp_path: Path) -> Iterator[tuple[int, list[str]]]:
    yield from _local_haven(tmp_path, _without_the_right_to_lock())


def test_haven_locks_its_memory_where_the_machine_lets_it(
        served: tuple[int, list[str]]) -> None:
    pid, lines = served
    if _can_lock_here():
        expected = LOCKED
    elif memory.cgroup_swap_barred() is not None:
        expected = f"memory: kept out of swap by {memory.cgroup_swap_barred()}"
    else:
        expected = lines[0] if lines[0].startswith("memory: not locked (") else "not locked"
    assert lines[0] == expected
    if _can_lock_here():
        # Every page it has touched is locked: the locked size covers what
        # is resident (locked mappings also count their untouched reserve).
        assert _status(pid, "VmLck") >= _status(pid, "VmRSS")
    assert _core_limit(pid) == ["0", "0"]


def test_without_the_right_to_lock_it_says_so_and_still_refuses_core_dumps(
        served_unprivileged: tuple[int, list[str]]) -> None:
    pid, lines = served_unprivileged
    assert lines[0].startswith("memory: not locked (the memory-lock limit is 64 KiB)")
    assert "deploy/haven.service (MemorySwapMax=0)" in lines[0]
    # Nothing like the whole process: SQLCipher locks its own pages instead.
    assert _status(pid, "VmLck") < _status(pid, "VmRSS") // 4
    assert _core_limit(pid) == ["0", "0"]


def _database_memory_security(tmp_path: Path, *, locked: bool) -> str:
    """PRAGMA cipher_memory_security as a fresh process's served connection
    reports it, for a runtime told its memory is (or is not) locked."""
    script = (
        "import sys\n"
        "from onion_app.config import Config\n"
        "from onion_app.web.state import Runtime\n"
        "config = Config.from_env({'HAVEN_INSTANCE': sys.argv[1]})\n"
        "runtime = Runtime.for_config(config, memory_locked=sys.argv[2] == 'locked')\n"
        "runtime.database.init()\n"
        "conn = runtime.database.thread_connection()\n"
        "print(conn.execute('PRAGMA cipher_memory_security').fetchone()[0])\n"
        "runtime.database.close()\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path / "instance"),
         "locked" if locked else "unlocked"],
        capture_output=True, text=True, timeout=120, check=True, cwd=ROOT)
    return result.stdout.strip()


def test_sqlcipher_locks_its_own_pages_only_where_the_process_is_not_locked(
        tmp_path: Path) -> None:
    assert _database_memory_security(tmp_path / "a", locked=False) == "1"
    assert _database_memory_security(tmp_path / "b", locked=True) == "0"


def test_the_guard_in_a_process_of_its_own(tmp_path: Path) -> None:
    script = ("from onion_app.serving import memory\n"
              "guard = memory.guard_process()\n"
              "print(guard.swap_barred)\n")
    locked = subprocess.run([sys.executable, "-c", script], capture_output=True,
                            text=True, timeout=60, check=True, cwd=ROOT).stdout.strip()
    unprivileged = subprocess.run(
        [*_without_the_right_to_lock(), sys.executable, "-c", script],
        capture_output=True, text=True, timeout=60, check=True, cwd=ROOT).stdout.strip()
    assert locked == str(_can_lock_here())
    # No cgroup bars swap on a test machine, so without a lock nothing holds.
    assert unprivileged == str(memory.cgroup_swap_barred() is not None)


def _cgroup_tree(tmp_path: Path, own: str, limits: dict[str, str]) -> tuple[Path, Path]:
    proc = tmp_path / "cgroup"
    proc.write_text(own)
    root = tmp_path / "sys"
    for group, limit in limits.items():
        folder = root / group.lstrip("/")
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "memory.swap.max").write_text(limit + "\n")
    return proc, root


@pytest.mark.parametrize(("own", "limits", "expected"), [
    # What deploy/haven.service sets: MemorySwapMax=0 on the service's cgroup.
    ("0::/system.slice/haven.service\n",
     {"/system.slice": "max", "/system.slice/haven.service": "0"},
     "cgroup /system.slice/haven.service (memory.swap.max 0)"),
    # A limit on a parent cgroup covers everything under it.
    ("0::/machine.slice/haven.scope\n",
     {"/machine.slice": "0", "/machine.slice/haven.scope": "max"},
     "cgroup /machine.slice (memory.swap.max 0)"),
    # Swap allowed, however little: pages can still reach it.
    ("0::/user.slice/session-1.scope\n",
     {"/user.slice": "max", "/user.slice/session-1.scope": "4096"}, None),
    # cgroup v1 (this test machine's kind): no v2 line, nothing to read.
    ("4:memory:/process_api/abc\n0::/\n", {}, None),
    ("9:name=systemd:/\n4:memory:/x\n", {}, None),
])
def test_a_cgroup_swap_limit_of_zero_is_found(tmp_path: Path, own: str,
                                              limits: dict[str, str],
                                              expected: str | None) -> None:
    proc, root = _cgroup_tree(tmp_path, own, limits)
    assert memory.cgroup_swap_barred(proc, root) == expected


def test_no_readable_cgroup_is_no_guarantee(tmp_path: Path) -> None:
    assert memory.cgroup_swap_barred(tmp_path / "absent", tmp_path) is None
