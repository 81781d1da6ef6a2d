"""The metadata remover's sandbox, tried from inside: it cannot read the
instance folder, reach the network or pass its memory limit; and mat2 in it
cleans each accepted kind of file."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from onion_app.config import Config
from onion_app.domain import cleaning, file_types
from tests import attachment_files as files

LIMITS = cleaning.Limits(memory_bytes=256 * 1024 * 1024, cpu_seconds=20, wall_seconds=60)


def inside(code: str, limits: cleaning.Limits = LIMITS, stdin: bytes = b"") -> tuple[int, str]:
    """Runs Python ``code`` in the sandbox; returns its status and what it printed."""
    status, out = cleaning.run_sandboxed(["/usr/bin/python3", "-I", "-c", code], stdin, limits)
    return status, out.decode()


def test_the_sandbox_runs_what_it_is_given() -> None:
    # The other tests show refusals; this shows they are not a sandbox that runs nothing.
    assert inside("import sys; print(sys.stdin.read()[::-1])", stdin=b"olleh") == (0, "hello\n")


def test_the_instance_folder_is_not_there(initialised: Config) -> None:
    database = initialised.db_path
    assert database.is_file()
    status, out = inside(f"""
import os
for path in ({str(database)!r}, {str(initialised.instance_path)!r}, "/work", "/root", "/home"):
    print(path, os.path.exists(path))
try:
    open({str(database)!r}, "rb")
except OSError as error:
    print(type(error).__name__)
""")
    assert status == 0
    assert f"{database} False" in out
    assert f"{initialised.instance_path} False" in out
    assert "FileNotFoundError" in out


def test_nothing_outside_the_tmpfs_is_writable() -> None:
    status, out = inside("""
import os
for path in ("/usr/haven-test", "/etc/haven-test", "/haven-test", "/dev/haven-test",
             "/tmp/haven-test"):
    try:
        with open(path, "w") as f:
            f.write("x")
        print(path, "written")
    except OSError as error:
        print(path, type(error).__name__)
print("uid", os.getuid())
""")
    assert status == 0
    lines = out.splitlines()
    assert "/tmp/haven-test written" in lines
    for path in ("/usr/haven-test", "/etc/haven-test", "/haven-test", "/dev/haven-test"):
        assert f"{path} OSError" in lines
    assert "uid 65534" in out
    assert not Path("/tmp/haven-test").exists()  # its /tmp is its own


@pytest.fixture
def listener() -> Iterator[tuple[int, list[bool]]]:
    """A server on the host's loopback, and the list of who reached it."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    server.settimeout(0.2)
    reached: list[bool] = []
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            try:
                connection, _ = server.accept()
            except TimeoutError:
                continue
            reached.append(True)
            connection.close()

    thread = threading.Thread(target=accept)
    thread.start()
    try:
        yield server.getsockname()[1], reached
    finally:
        stop.set()
        thread.join()
        server.close()


def test_no_network_not_even_the_hosts_loopback(listener: tuple[int, list[bool]]) -> None:
    port, reached = listener
    # The host's own view first: the listener is reachable from here.
    with socket.create_connection(("127.0.0.1", port), timeout=5):
        pass
    while not reached:
        time.sleep(0.01)
    status, out = inside(f"""
import socket
for host in ("127.0.0.1", "10.0.0.1", "1.1.1.1"):
    try:
        socket.create_connection((host, {port}), timeout=3)
        print(host, "connected")
    except OSError as error:
        print(host, type(error).__name__)
print(sorted(name for _, name in socket.if_nameindex()))
""")
    assert status == 0
    assert "connected" not in out
    assert "['lo']" in out  # an empty network namespace: loopback, and its own
    assert reached == [True]  # only the host's own connection


def test_the_memory_limit_holds() -> None:
    small = cleaning.Limits(memory_bytes=200 * 1024 * 1024, cpu_seconds=20, wall_seconds=60)
    status, out = inside("""
import sys
blocks = []
try:
    for _ in range(64):
        blocks.append(bytearray(16 * 1024 * 1024))
        blocks[-1][::4096] = b"x" * len(blocks[-1][::4096])
    print("allocated", 16 * len(blocks), "MiB")
except MemoryError:
    print("refused after", 16 * len(blocks), "MiB")
""", small)
    assert status == 0
    refused = out.split()
    assert refused[0] == "refused", out
    assert int(refused[2]) < 200
    # With the limit above what it asks for, the same code gets its memory.
    roomy = cleaning.Limits(memory_bytes=2048 * 1024 * 1024, cpu_seconds=20, wall_seconds=60)
    assert inside("bytearray(1024 * 1024 * 1024); print('ok')", roomy) == (0, "ok\n")


def test_a_run_past_its_time_is_stopped() -> None:
    brief = cleaning.Limits(cpu_seconds=1, wall_seconds=60)
    status, _ = inside("while True: pass", brief)
    assert status != 0  # the CPU limit ended it
    with pytest.raises(cleaning.CleaningFailed) as stopped:
        inside("import time; time.sleep(600)", cleaning.Limits(wall_seconds=1))
    assert stopped.value.reason == "timeout"


def test_output_past_its_bound_is_refused() -> None:
    with pytest.raises(cleaning.CleaningFailed) as refused:
        inside("import sys; sys.stdout.buffer.write(b'x' * 3_000_000)",
               cleaning.Limits(output_bytes=1_000_000))
    assert refused.value.reason == "too-large"


@pytest.mark.parametrize("kind", [file_types.PNG, file_types.WEBP, file_types.TEXT])
def test_the_other_kinds_come_back_cleaned(kind: file_types.FileType) -> None:
    data = files.image("PNG" if kind is file_types.PNG else "WEBP") \
        if kind is not file_types.TEXT else "Plain words, in any script: سلام\n".encode()
    assert file_types.sniff(data) == kind
    cleaned = cleaning.clean(data, kind, LIMITS)
    assert file_types.sniff(cleaned) == kind
    if kind is not file_types.TEXT:
        assert files.SECRETS["jpeg"][0] not in str(files.metadata(cleaned))


def test_a_file_mat2_cannot_parse_fails_cleanly() -> None:
    with pytest.raises(cleaning.CleaningFailed) as failed:
        cleaning.clean(b"%PDF-1.4\n" + b"\x00garbage" * 100, file_types.PDF, LIMITS)
    assert failed.value.reason == "failed"
