"""A full disk, a read-only instance and a held write lock, for real.

The disk is a small tmpfs mounted for the test (the tests run as root, which
``make test`` needs anyway to install its Debian packages); filling it is a
real full disk, and remounting it read-only a real read-only instance. The
lock is held by a second real connection to the same SQLCipher file.
"""

from __future__ import annotations

import contextlib
import datetime
import errno
import html
import logging
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from onion_app import create_app
from onion_app.config import Config
from onion_app.errors import DiskFull
from onion_app.store import Connection, Database, oversight
from onion_app.web.state import Runtime, state_of
from tests import journey as requester
from tests.conftest import make_config
from tests.haven_process import ROOT, haven_env
from tests.pages import staff_world

STORY = "Mein Vermieter droht mir \u2014 \u0627\u0644\u0645\u0633\u0627\u0639\u062f\u0629 keep this"
REPLY = "A reply that must survive the fault \u202e intact"


@pytest.fixture
def small_disk() -> Iterator[Path]:
    """A 6 MiB tmpfs of the test's own, unmounted afterwards."""
    mount_point = Path(tempfile.mkdtemp(prefix="haven-disk-"))
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=6m,mode=0700", "tmpfs",
                              str(mount_point)], capture_output=True, text=True, check=False)
    assert mounted.returncode == 0, (
        f"these tests mount a small tmpfs and need root to: {mounted.stderr}")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], check=False)
        mount_point.rmdir()


def _remount(mount_point: Path, mode: str) -> None:
    subprocess.run(["mount", "-o", f"remount,{mode}", str(mount_point)], check=True)


def _fill(mount_point: Path) -> Path:
    """Writes a file until the disk is full; returns it (delete it to free the disk)."""
    filler = mount_point / "filler"
    full = False
    # Unbuffered: a buffered file could still hold bytes the disk refused, and
    # raise ENOSPC again as it closes.
    try:
        with filler.open("wb", buffering=0) as handle:
            while True:
                handle.write(b"\0" * 65536)
    except OSError as error:
        full = error.errno == errno.ENOSPC
    assert full
    return filler


@pytest.fixture
def on_small_disk(small_disk: Path, template_database: Path) -> Config:
    config = make_config(small_disk / "instance")
    config.instance_path.mkdir(mode=0o700)
    for name in ("haven.db", "db.key"):
        shutil.copy2(template_database / name, config.instance_path / name)
    return config


@pytest.fixture
def public(on_small_disk: Config) -> Flask:
    return create_app("public", on_small_disk, Runtime.for_config(on_small_disk))


def _kept_form(page: str) -> dict[str, list[str]]:
    """What the "try again" page's form would send back."""
    form: dict[str, list[str]] = {}
    for name, value in re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', page):
        form.setdefault(name, []).append(html.unescape(value))
    for name, value in re.findall(r'<textarea id="kept-\d+" name="([^"]+)"[^>]*>(.*?)</textarea>',
                                  page, re.S):
        form.setdefault(name, []).append(html.unescape(value))
    return form


def _assert_kept(page: str, *texts: str) -> None:
    for text in texts:
        assert html.escape(text) in page or text in html.unescape(page), text
    assert 'method="post"' in page


def _stories(config: Config) -> int:
    conn = Database(config).open()
    try:
        return int(conn.execute("SELECT count(*) FROM requests").fetchone()[0])
    finally:
        conn.close()


def test_a_full_disk_keeps_the_submission_and_the_reply(
        small_disk: Path, public: Flask, on_small_disk: Config,
        caplog: pytest.LogCaptureFixture) -> None:
    client = public.test_client()
    requester.new_account(client)
    public_id = requester.submitted_id(client)
    before = _stories(on_small_disk)
    reply_token = requester.csrf(client, f"/requests/{public_id}")
    new_token = requester.csrf(client, "/requests/new")
    filler = _fill(small_disk)
    with caplog.at_level(logging.ERROR):
        refused = client.post("/requests/new", data=requester.request_fields(
            story=STORY, csrf_token=new_token))
        page = refused.get_data(as_text=True)
        assert refused.status_code == 507, page
        assert "Haven cannot save right now" in page
        _assert_kept(page, STORY, "Need a lawyer", "Advice on asylum.")
        assert refused.headers["Retry-After"]
        replied = client.post(f"/requests/{public_id}/reply",
                              data={"csrf_token": reply_token, "text": REPLY})
        assert replied.status_code == 507
        _assert_kept(replied.get_data(as_text=True), REPLY)
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "is full" in logged
    assert "key does not open" not in logged
    assert STORY not in logged
    filler.unlink()
    # The page's own form, sent again once there is room: nothing was lost.
    again = client.post("/requests/new", data=_kept_form(page))
    assert again.status_code == 302, again.get_data(as_text=True)
    assert _stories(on_small_disk) == before + 1
    resent = client.post(f"/requests/{public_id}/reply",
                         data=_kept_form(replied.get_data(as_text=True)))
    assert resent.status_code == 302


def test_starting_on_a_full_disk_says_so(small_disk: Path, on_small_disk: Config) -> None:
    _fill(small_disk)
    started = subprocess.run(
        [sys.executable, str(ROOT / "run.py"), "--local"],
        env=haven_env(on_small_disk.instance_path, HAVEN_PUBLIC_PORT="0", HAVEN_STAFF_PORT="0"),
        capture_output=True, text=True, timeout=60, check=False)
    assert started.returncode == 1
    assert "is full" in started.stderr
    assert "Traceback" not in started.stderr + started.stdout
    assert "key does not open" not in started.stderr


def test_opening_the_database_on_a_full_disk_is_not_a_wrong_key(
        small_disk: Path, on_small_disk: Config) -> None:
    # The database itself meets the full disk (its -shm file cannot be made).
    _fill(small_disk)
    with pytest.raises(DiskFull, match="is full"):
        Database(on_small_disk).init()


def test_a_read_only_instance_says_so_and_keeps_the_text(
        small_disk: Path, public: Flask, on_small_disk: Config) -> None:
    client = public.test_client()
    requester.new_account(client)
    public_id = requester.submitted_id(client)
    token = requester.csrf(client, f"/requests/{public_id}")
    # Open files for writing would make the remount fail (EBUSY): the kept
    # connections are closed first. A kernel remounting a failing disk
    # read-only does not wait for them; they reopen and fail the same way.
    state_of(public).database.close()
    _remount(small_disk, "ro")
    try:
        replied = client.post(f"/requests/{public_id}/reply",
                              data={"csrf_token": token, "text": REPLY})
        page = replied.get_data(as_text=True)
        assert replied.status_code == 503, page
        assert "Haven cannot save right now" in page
        _assert_kept(page, REPLY)
        listing = client.get("/requests")
        assert listing.status_code in (200, 503)
        assert "Something went wrong" not in listing.get_data(as_text=True)
        started = subprocess.run(
            [sys.executable, str(ROOT / "run.py"), "--local"],
            env=haven_env(on_small_disk.instance_path, HAVEN_PUBLIC_PORT="0",
                          HAVEN_STAFF_PORT="0"),
            capture_output=True, text=True, timeout=60, check=False)
        assert started.returncode == 1
        assert "read-only" in started.stderr
        assert "Traceback" not in started.stderr + started.stdout
    finally:
        _remount(small_disk, "rw")


@contextlib.contextmanager
def write_lock_held(config: Config) -> Iterator[None]:
    """A second real connection holding the write lock until the block ends."""
    holder = Database(config).open()
    holder.execute("BEGIN IMMEDIATE")
    holder.execute("UPDATE settings SET value = value")
    try:
        yield
    finally:
        holder.rollback()
        holder.close()


def test_a_held_write_lock_lets_pages_be_read_and_keeps_a_reply(
        public_app: Flask, initialised: Config) -> None:
    client: FlaskClient = public_app.test_client()
    requester.new_account(client)
    public_id = requester.submitted_id(client)
    token = requester.csrf(client, f"/requests/{public_id}")
    with write_lock_held(initialised):
        # Reading a thread marks replies seen: that write is skipped, not waited on.
        thread = client.get(f"/requests/{public_id}")
        assert thread.status_code == 200
        assert client.get("/requests").status_code == 200
        replied = client.post(f"/requests/{public_id}/reply",
                              data={"csrf_token": token, "text": REPLY})
        page = replied.get_data(as_text=True)
        # The requester's reply form is shown again, the text in it, with a word.
        assert replied.status_code == 429, page
        assert "Haven is very busy right now" in page
        assert html.escape(REPLY) in page or REPLY in page
    resent = client.post(f"/requests/{public_id}/reply",
                         data={"csrf_token": token, "text": REPLY})
    assert resent.status_code == 302
    assert REPLY in client.get(f"/requests/{public_id}").get_data(as_text=True)


def test_a_volunteer_reads_a_case_and_keeps_a_reply_while_the_lock_is_held(
        staff_app: Flask, public_app: Flask, initialised: Config) -> None:
    world = staff_world(staff_app, public_app)
    case = f"/cases/{world.request_id}"
    token = requester.csrf(world.volunteer, case)
    with write_lock_held(initialised):
        assert world.volunteer.get(case).status_code == 200
        replied = world.volunteer.post(f"{case}/reply", data={"csrf_token": token,
                                                              "text": REPLY})
        page = replied.get_data(as_text=True)
        assert replied.status_code == 503, page
        assert "Haven is busy" in page
        assert replied.headers["Retry-After"]
        _assert_kept(page, REPLY)
    resent = world.volunteer.post(f"{case}/reply", data=_kept_form(page))
    assert resent.status_code == 302
    assert REPLY in world.volunteer.get(case).get_data(as_text=True)


def _traced(config: Config) -> tuple[Connection, list[str]]:
    conn = Database(config).open()
    statements: list[str] = []
    conn.set_trace_callback(statements.append)
    return conn, statements


def test_a_purge_deletes_in_short_transactions(initialised: Config,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(oversight, "PURGE_BATCH", 2)
    app = create_app("public", initialised, Runtime.for_config(initialised))
    client = app.test_client()
    requester.new_account(client)
    for _ in range(5):
        requester.submitted_id(client)
    conn, statements = _traced(initialised)
    purged = oversight.purge_untouched(conn, 0, today=datetime.date(2999, 1, 1))
    conn.close()
    assert purged.requests == 5
    # One transaction per batch: 2 + 2 + 1 requests, then the one requester;
    # the lock is let go between them.
    assert statements.count("COMMIT") == 4
    assert [s.split()[0] for s in statements if s.split()[0] in ("BEGIN", "COMMIT")] == [
        "BEGIN", "COMMIT"] * 4
    assert _stories(initialised) == 0


def test_compacting_gives_pages_back_in_steps_not_one_vacuum(initialised: Config,
                                                              monkeypatch: pytest.MonkeyPatch
                                                              ) -> None:
    monkeypatch.setattr(oversight, "COMPACT_STEP_PAGES", 16)
    conn, statements = _traced(initialised)
    conn.execute("CREATE TABLE filler (x BLOB)")
    conn.executemany("INSERT INTO filler VALUES (?)",
                     [(os.urandom(3000),) for _ in range(200)])
    conn.commit()
    conn.execute("DELETE FROM filler")
    conn.commit()
    assert oversight.free_fraction(conn) > 0.25
    statements.clear()
    oversight.compact(conn)
    assert oversight.free_fraction(conn) == 0.0
    conn.close()
    steps = [s for s in statements if s.startswith("PRAGMA incremental_vacuum")]
    assert len(steps) > 1
    assert not any(s.strip().upper() == "VACUUM" for s in statements)
