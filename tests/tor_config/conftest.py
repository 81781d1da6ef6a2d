"""Fixtures for tor_config's tests: real tors with ``DisableNetwork 1``.

Such a tor starts in a fraction of a second, accepts ADD_ONION and answers
with v3 addresses, but never bootstraps past 0 %, so nothing here waits for
bootstrap.  Tor folders live under a short /tmp path because a unix socket
path must fit in 107 bytes, and pytest's tmp_path can be longer.

As stem's own test runner does, one tor serves every test that only adds or
removes services or reads status (:func:`shared_tor`, :func:`controller`);
what a test adds is removed after it, so the tests stay independent.  Tests
that stop, kill, restart or reconfigure tor take their own (:func:`tor`).
Under pytest-xdist each worker process launches its own shared tor.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from tor_helpers import OFFLINE, STAFF_CLIENT_PUBLIC

from tor_config.control import HavenController
from tor_config.onion import ServiceSpec, remove_service, running_services
from tor_config.pow import PowSettings
from tor_config.process import TorProcess, launch_tor


def _short_dir() -> Path:
    return Path(tempfile.mkdtemp(prefix="havtor-", dir="/tmp"))


@pytest.fixture
def short_dir() -> Iterator[Path]:
    """A fresh folder with a short path, removed afterwards."""
    path = _short_dir()
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="session")
def session_tor() -> Iterator[TorProcess]:
    """The one offline tor of this test process; use it through :func:`shared_tor`."""
    path = _short_dir()
    process = launch_tor(path / "tor", extra_options=OFFLINE)
    yield process
    process.stop()
    shutil.rmtree(path, ignore_errors=True)


def _client_auth_entries(controller: HavenController) -> set[str]:
    """Service ids this tor holds client keys for (ONION_CLIENT_AUTH_ADD)."""
    reply = controller.msg("ONION_CLIENT_AUTH_VIEW")
    return {line.split()[1] for line in reply if line.startswith("CLIENT ")}


@pytest.fixture
def shared_tor(session_tor: TorProcess) -> Iterator[TorProcess]:
    """The shared offline tor; the onion services and client keys the test
    added are removed afterwards.  A test must not stop or reconfigure it."""
    if not session_tor.is_running():
        pytest.fail(f"the shared tor has exited, stopped by an earlier test:\n"
                    f"{session_tor.log_tail()}")
    with session_tor.connect() as before:
        services, client_keys = running_services(before), _client_auth_entries(before)
    yield session_tor
    # A new connection: the test may have closed its own.  If the test killed
    # the shared tor, this fails and names it.
    with session_tor.connect() as after:
        for service_id in running_services(after) - services:
            remove_service(after, service_id, missing_ok=True)
        for service_id in _client_auth_entries(after) - client_keys:
            after.msg(f"ONION_CLIENT_AUTH_REMOVE {service_id}")


@pytest.fixture
def controller(shared_tor: TorProcess) -> Iterator[HavenController]:
    """An authenticated control connection to the shared tor."""
    connection = shared_tor.connect()
    yield connection
    connection.close()


@pytest.fixture
def tor(short_dir: Path) -> Iterator[TorProcess]:
    """A tor of the test's own, offline, stopped after the test: for tests
    that stop, kill or reconfigure it."""
    process = launch_tor(short_dir / "tor", extra_options=OFFLINE)
    yield process
    process.stop()


@pytest.fixture
def specs(short_dir: Path) -> list[ServiceSpec]:
    """Haven's two services as run.py will describe them."""
    return [
        ServiceSpec("public", f"unix:{short_dir}/public.sock", pow=PowSettings(),
                    max_streams=20, max_streams_close_circuit=True),
        ServiceSpec("staff", f"unix:{short_dir}/staff.sock", client_keys=(STAFF_CLIENT_PUBLIC,)),
    ]
