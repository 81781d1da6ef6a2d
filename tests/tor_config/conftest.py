"""Fixtures for tor_config's tests: a real tor with ``DisableNetwork 1``.

Such a tor starts in a fraction of a second, accepts ADD_ONION and answers
with v3 addresses, but never bootstraps past 0 %, so nothing here waits for
bootstrap.  Tor folders live under a short /tmp path because a unix socket
path must fit in 107 bytes, and pytest's tmp_path can be longer.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from tor_helpers import OFFLINE, STAFF_CLIENT_PUBLIC

from tor_config.control import HavenController
from tor_config.onion import ServiceSpec
from tor_config.pow import PowSettings
from tor_config.process import TorProcess, launch_tor


@pytest.fixture
def short_dir() -> Iterator[Path]:
    """A fresh folder with a short path, removed afterwards."""
    path = Path(tempfile.mkdtemp(prefix="havtor-", dir="/tmp"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def tor(short_dir: Path) -> Iterator[TorProcess]:
    """Haven's own tor, offline, stopped after the test."""
    process = launch_tor(short_dir / "tor", extra_options=OFFLINE)
    yield process
    process.stop()


@pytest.fixture
def controller(tor: TorProcess) -> Iterator[HavenController]:
    """An authenticated control connection to :func:`tor`."""
    connection = tor.connect()
    yield connection
    connection.close()


@pytest.fixture
def specs(short_dir: Path) -> list[ServiceSpec]:
    """Haven's two services as run.py will describe them."""
    return [
        ServiceSpec("public", f"unix:{short_dir}/public.sock", pow=PowSettings()),
        ServiceSpec("staff", f"unix:{short_dir}/staff.sock", client_keys=(STAFF_CLIENT_PUBLIC,)),
    ]
