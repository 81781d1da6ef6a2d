"""Shared fixtures: apps over a temporary instance folder, built the way
production builds them (``Config.from_env``), never by a side road.

Two things are made once per session and copied per test, because each costs
far more than the test that needs it: a migrated database (a copy takes about
a millisecond, migrating one about 170 ms) and nothing else expensive: every
argon2id cost is the cheapest argon2id allows, set here and only here
(``CHEAP_KDF`` in ``haven_process.py``; ``test_config.py`` checks that
production's costs are the real ones).
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from flask import Flask
from hypothesis import settings
from tor_network import PrivateNetwork, shared_network

from onion_app import create_app
from onion_app.config import Config
from onion_app.store import Database
from onion_app.web.state import Runtime
from tests.haven_cli import HavenCliRunner
from tests.haven_process import CHEAP_KDF

# Hypothesis's per-example deadline is a timed assertion, and this machine is
# shared and noisy (two xdist workers, tor, chromium): timings belong in
# bench/, so the tests check behaviour only.
settings.register_profile("haven", deadline=None)
settings.load_profile("haven")


def make_config(instance: Path, **environ: str) -> Config:
    """A configuration for tests, built by ``Config.from_env`` like production's."""
    return Config.from_env({"HAVEN_INSTANCE": str(instance), **CHEAP_KDF,
                            **environ}).with_changes(testing=True)


@pytest.fixture(scope="session")
def template_database(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An instance folder with a migrated database and its key file, made once."""
    instance = tmp_path_factory.mktemp("template") / "instance"
    Database(make_config(instance)).init()
    return instance

if TYPE_CHECKING:
    from playwright.sync_api import Browser as Chromium


@pytest.fixture
def config(tmp_path: Path) -> Config:
    return make_config(tmp_path / "instance")


@pytest.fixture
def initialised(config: Config, template_database: Path) -> Config:
    """``config`` with a migrated database in place: a copy of the template."""
    config.instance_path.mkdir(mode=0o700, parents=True, exist_ok=True)
    for name in ("haven.db", "db.key"):
        shutil.copy2(template_database / name, config.instance_path / name)
    return config


@pytest.fixture
def runtime(initialised: Config) -> Runtime:
    """What the process shares: one database handle, one bound on derivations."""
    return Runtime.for_config(initialised)


@pytest.fixture
def database(runtime: Runtime) -> Database:
    return runtime.database


@pytest.fixture
def db(database: Database) -> Iterator[object]:
    """A connection to the test's database, closed afterwards."""
    with database.connect() as conn:
        yield conn


@pytest.fixture(params=["public", "staff"])
def role(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def app(initialised: Config, role: str, runtime: Runtime) -> Flask:
    return create_app(role, initialised, runtime)


@pytest.fixture
def public_app(initialised: Config, runtime: Runtime) -> Flask:
    return create_app("public", initialised, runtime)


@pytest.fixture
def staff_app(initialised: Config, runtime: Runtime) -> Flask:
    return create_app("staff", initialised, runtime)


@pytest.fixture
def client(app: Flask) -> object:
    return app.test_client()


@pytest.fixture
def runner(runtime: Runtime) -> HavenCliRunner:
    """``python run.py``'s own click group, over this test's runtime."""
    return HavenCliRunner(runtime)


# --- browser tests (tests/browser.py) ---------------------------------------
@pytest.fixture(scope="session")
def chromium_process() -> Iterator[Chromium]:
    """One chromium per session (per xdist worker), started by the first browser
    test: a launch costs a second, a context milliseconds. Tests get their own
    fresh contexts from it (``tests.browser.fresh_contexts``)."""
    # Imported here so that a session without browser tests never loads playwright.
    from tests.browser import launch_chromium

    with launch_chromium() as chromium:
        yield chromium
# --- end of browser tests ---------------------------------------------------


# --- test order for pytest-xdist --------------------------------------------
SLOW_MARKERS = ("tor", "browser")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests that start tor or chromium (seconds each) go first, the rest keep
    their order. xdist hands tests out in this order, so the two workers finish
    on the quick ones together instead of one waiting on a tor test at the end."""
    items.sort(key=lambda item: not any(item.get_closest_marker(m) for m in SLOW_MARKERS))
# --- end of test order -------------------------------------------------------


# --- tor: one private Tor network per test process (tests/tor_network.py) ---
# Starting one takes about 20 s, so every test that needs one shares it; mark
# such tests @pytest.mark.xdist_group("tor_network") so that pytest-xdist's
# --dist loadgroup runs them on one worker.


@pytest.fixture(scope="session")
def tor_network_session() -> Iterator[PrivateNetwork]:
    with shared_network() as net:
        yield net


@pytest.fixture
def tor_network(tor_network_session: PrivateNetwork) -> Iterator[PrivateNetwork]:
    """The shared private network; what the test left on it is removed afterwards."""
    with tor_network_session.for_one_test():
        yield tor_network_session
# --- end tor ---
