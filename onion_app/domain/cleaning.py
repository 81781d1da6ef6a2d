"""Removing hidden metadata from a file: mat2, run inside a bubblewrap sandbox.

Parsing a hostile file is an attack surface, so the parser never runs in
Haven's process. Each file goes to a fresh sandbox (``bwrap``) through a
pipe: no network (its own empty network namespace), no view of the instance
folder or of anything but ``/usr`` and two read-only files from ``/etc``, no
capabilities, an unprivileged user, a size-limited tmpfs as the only
writable place, and limits on address space and CPU time (``prlimit``), plus
a wall-clock limit enforced from outside. The clear file exists only in
Haven's memory and on that tmpfs, which vanishes with the sandbox. The
cleaned copy comes back through another pipe, read up to a bound.

The tool is mat2 (Debian ``mat2``), not a parser of ours. Which of mat2's
parsers runs is chosen by the extension Haven gives the file, from the type
its content was recognised as (:mod:`onion_app.domain.file_types`).
"""

from __future__ import annotations

import shutil
import subprocess
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import IO

from onion_app.domain.file_types import FileType

__all__ = ["CleaningFailed", "Limits", "clean", "run_sandboxed", "sandbox_available"]


class CleaningFailed(Exception):
    """The remover could not clean a file: ``reason`` is ``"unavailable"``,
    ``"timeout"``, ``"too-large"`` or ``"failed"`` (it crashed, ran out of
    memory or CPU time, or did not know the file)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Limits:
    """What one sandboxed run may use."""

    memory_bytes: int = 1024 * 1024 * 1024
    cpu_seconds: int = 60
    wall_seconds: float = 120.0
    tmpfs_bytes: int = 128 * 1024 * 1024
    output_bytes: int = 64 * 1024 * 1024


# The sandbox's own tmpfs, not the host's /tmp: nothing outside it sees it.
_TMPFS = "/tmp"  # noqa: S108

# Runs inside the sandbox with Debian's python3: the file arrives on stdin and
# is written to the tmpfs under a fixed name, never the sender's.
_DRIVER = """
import os, sys
extension = sys.argv[1]
data = sys.stdin.buffer.read()
os.makedirs("/tmp/work", mode=0o700)
path = "/tmp/work/file." + extension
with open(path, "wb") as f:
    f.write(data)
del data
from libmat2 import images, parser_factory


class WEBPParser(images.GdkPixbufAbstractParser):
    # mat2 0.13.3 (Debian 12) has no WebP parser; this is how later mat2
    # releases add one: GdkPixbuf (with webp-pixbuf-loader) redraws the image.
    _type = "webp"
    mimetypes = {"image/webp"}
    meta_allowlist = {"SourceFile", "ExifToolVersion", "FileName", "Directory",
                      "FileSize", "FileModifyDate", "FileAccessDate",
                      "FileInodeChangeDate", "FilePermissions", "FileType",
                      "FileTypeExtension", "MIMEType", "ImageWidth", "ImageHeight",
                      "ImageSize", "Megapixels", "VP8Version", "HorizontalScale",
                      "VerticalScale"}


parser, _ = parser_factory.get_parser(path)
if parser is None:
    sys.exit(3)
if not parser.remove_all():
    sys.exit(4)
with open(parser.output_filename, "rb") as f:
    sys.stdout.buffer.write(f.read())
"""


def sandbox_available() -> bool:
    """Whether ``bwrap``, ``prlimit`` and mat2 are installed."""
    return all(shutil.which(tool) for tool in ("bwrap", "prlimit", "mat2"))


def clean(data: bytes, kind: FileType, limits: Limits) -> bytes:
    """Returns a copy of ``data`` with its hidden metadata removed.

    :raises CleaningFailed: if the sandbox cannot run, or the remover fails,
        times out, or returns more than ``limits.output_bytes``
    """
    if not sandbox_available():
        raise CleaningFailed("unavailable")
    code, out = run_sandboxed(["/usr/bin/python3", "-I", "-c", _DRIVER, kind.extension],
                              data, limits)
    if code != 0 or not out:
        raise CleaningFailed("failed")
    return out


def run_sandboxed(argv: Sequence[str], stdin: bytes, limits: Limits) -> tuple[int, bytes]:
    """Runs ``argv`` in the sandbox described above, ``stdin`` on its input.

    :returns: the exit status (negative: killed by that signal) and what it
        wrote to stdout
    :raises CleaningFailed: ``"timeout"`` past ``limits.wall_seconds``,
        ``"too-large"`` past ``limits.output_bytes``, ``"unavailable"`` if
        the tools are missing
    """
    command = [
        "prlimit", f"--as={limits.memory_bytes}", f"--cpu={limits.cpu_seconds}",
        "--core=0", "--",
        "bwrap", "--unshare-all", "--unshare-user", "--uid", "65534", "--gid", "65534",
        "--cap-drop", "ALL", "--die-with-parent", "--new-session",
        "--ro-bind", "/usr", "/usr",
        "--symlink", "usr/lib", "/lib", "--symlink", "usr/lib64", "/lib64",
        "--symlink", "usr/bin", "/bin", "--symlink", "usr/sbin", "/sbin",
        # mat2 picks its parser by file extension through these; fonts for PDFs.
        "--ro-bind-try", "/etc/mime.types", "/etc/mime.types",
        "--ro-bind-try", "/etc/fonts", "/etc/fonts",
        "--proc", "/proc", "--dev", "/dev",
        "--size", str(limits.tmpfs_bytes), "--tmpfs", _TMPFS,
        # bwrap's root and /dev are tmpfs of its own: read-only, so that /tmp
        # (bounded) is the one writable place.
        "--remount-ro", "/dev", "--remount-ro", "/",
        "--chdir", _TMPFS, "--clearenv", "--setenv", "HOME", _TMPFS,
        "--setenv", "LANG", "C.UTF-8", "--setenv", "PATH", "/usr/bin",
        *argv,
    ]
    try:
        process = subprocess.Popen(  # noqa: S603  (fixed argument list, no shell)
            command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL, close_fds=True)
    except OSError:
        raise CleaningFailed("unavailable") from None
    if process.stdin is None or process.stdout is None:  # never: both are pipes
        raise CleaningFailed("unavailable")
    timed_out = threading.Event()

    def kill() -> None:
        timed_out.set()
        process.kill()

    timer = threading.Timer(limits.wall_seconds, kill)
    timer.start()
    # The file goes in on its own thread so that a remover writing before it
    # has read everything cannot deadlock the two pipes.
    feeder = threading.Thread(target=_feed, args=(process.stdin, stdin), daemon=True)
    feeder.start()
    out = bytearray()
    too_large = False
    try:
        while piece := process.stdout.read(64 * 1024):
            out += piece
            if len(out) > limits.output_bytes:
                too_large = True
                process.kill()
                break
        code = process.wait()
    finally:
        timer.cancel()
        process.stdout.close()
        feeder.join()
    if timed_out.is_set():
        raise CleaningFailed("timeout")
    if too_large:
        raise CleaningFailed("too-large")
    return code, bytes(out)


def _feed(pipe: IO[bytes], data: bytes) -> None:
    try:
        pipe.write(data)
        pipe.close()
    except (BrokenPipeError, OSError):
        pass  # the remover stopped reading (it failed, or was killed): its status says why
