"""Keeping the serving process's memory out of swap and out of core dumps.

Decrypted request text, unlocked volunteer keys, per-request keys and the
database key all live in the serving process's memory. A page of it written
to swap is clear content on a disk, which Haven promises never to leave.

Two things each keep all of the process's memory out of swap:

- ``mlockall`` here, on every page the process has or will fault in. It needs
  ``CAP_IPC_LOCK`` (root) or a memory-lock limit above what Haven uses.
- A cgroup v2 swap limit of 0, which ``deploy/haven.service`` sets
  (``MemorySwapMax=0``) for the unprivileged service user, who cannot lock.

When either holds, SQLCipher's own ``cipher_memory_security`` is redundant:
it locks (and wipes) only SQLCipher's allocations, one system call at a time,
and was half of a submission's server time. When neither holds, SQLCipher
keeps doing that for its pages, and the operator is told the rest of the
process is not covered. Core dumps are refused either way.
"""

from __future__ import annotations

import ctypes
import os
import resource
from dataclasses import dataclass
from pathlib import Path

# <sys/mman.h>. MCL_ONFAULT (Linux 4.4) locks each page when it is first
# touched instead of faulting every mapping in at once: a thread's 8 MiB
# stack reservation stays a reservation, not 8 MiB of locked memory.
MCL_CURRENT = 1
MCL_FUTURE = 2
MCL_ONFAULT = 4

CGROUP_ROOT = Path("/sys/fs/cgroup")
PROC_CGROUP = Path("/proc/self/cgroup")
PROC_STATUS = Path("/proc/self/status")
# <linux/capability.h>
CAP_IPC_LOCK = 14


@dataclass(frozen=True)
class MemoryGuard:
    """What keeps this process's memory out of swap, if anything."""

    #: every page of the process is kept out of swap, SQLCipher's included
    swap_barred: bool
    #: one line for the operator: how, or why not
    status: str


def guard_process() -> MemoryGuard:
    """Refuses core dumps and keeps the process's memory out of swap if it can.

    Call it once, in the serving process, before the first database connection
    opens (SQLCipher's memory security, once on, stays on for the process).
    Child processes (tor, mat2, gpg) inherit no memory lock.

    :returns: what holds; nothing is raised, since Haven serves either way
    """
    refuse_core_dumps()
    error = lock_all_memory()
    if error is None:
        return MemoryGuard(True, "memory: locked, kept out of swap")
    barred_by = cgroup_swap_barred()
    if barred_by is not None:
        return MemoryGuard(True, f"memory: kept out of swap by {barred_by}")
    return MemoryGuard(False, f"memory: not locked ({error}); SQLCipher locks its own pages, "
                              "but the rest could reach swap. Run Haven as deploy/haven.service "
                              "(MemorySwapMax=0), as root, or with no memory-lock limit")


def refuse_core_dumps() -> None:
    """Sets this process's core size limit to 0, soft and hard, so that no
    crash writes its memory to disk (``LimitCORE=0`` does it under systemd;
    this does it everywhere)."""
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def lock_all_memory() -> str | None:
    """Locks every page this process has and will touch (``mlockall``).

    Only under no memory-lock limit: with a finite one, a lock that held at
    start would make some later allocation fail once the process grew past
    it, and a page would fail to serve instead of a start-up line warning.

    :returns: ``None`` when locked, otherwise the reason in words
    """
    unlimited = (resource.RLIM_INFINITY, resource.RLIM_INFINITY)
    if not _may_lock_without_limit() and resource.getrlimit(resource.RLIMIT_MEMLOCK) != unlimited:
        try:
            resource.setrlimit(resource.RLIMIT_MEMLOCK, unlimited)
        except (OSError, ValueError):
            soft, _hard = resource.getrlimit(resource.RLIMIT_MEMLOCK)
            return f"the memory-lock limit is {soft // 1024} KiB"
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.mlockall(MCL_CURRENT | MCL_FUTURE | MCL_ONFAULT) == 0:
        return None
    return os.strerror(ctypes.get_errno()).lower()


def _may_lock_without_limit(status: Path = PROC_STATUS) -> bool:
    """Whether this process holds ``CAP_IPC_LOCK``, which the limit does not bind."""
    try:
        for line in status.read_text().splitlines():
            if line.startswith("CapEff:"):
                return bool(int(line.split()[1], 16) >> CAP_IPC_LOCK & 1)
    except (OSError, ValueError, IndexError):
        pass
    return False


def cgroup_swap_barred(proc_cgroup: Path = PROC_CGROUP,
                       root: Path = CGROUP_ROOT) -> str | None:
    """Whether a cgroup v2 swap limit of 0 covers this process: its own
    cgroup's ``memory.swap.max`` or any ancestor's.

    :returns: the cgroup that bars swap, or ``None`` (cgroup v1, no memory
        controller, a limit above 0, or nothing readable)
    """
    try:
        lines = proc_cgroup.read_text().splitlines()
    except OSError:
        return None
    # cgroup v2 is the one line "0::/path"; v1 lines name their controllers.
    unified = [line[3:] for line in lines if line.startswith("0::")]
    if not unified or not unified[0].startswith("/"):
        return None
    path = Path(unified[0])
    for ancestor in (path, *path.parents):
        try:
            limit = (root / ancestor.relative_to("/") / "memory.swap.max").read_text().strip()
        except (OSError, ValueError):
            continue
        if limit == "0":
            return f"cgroup {ancestor} (memory.swap.max 0)"
    return None
