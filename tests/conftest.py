"""Shared fixtures: apps over a temporary instance folder, built the way
production builds them (``Config.from_env``), never by a side road."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner

from onion_app import create_app
from onion_app.config import Config
from onion_app.store import maintenance

if TYPE_CHECKING:
    from playwright.sync_api import Browser as Chromium


@pytest.fixture
def config(tmp_path: Path) -> Config:
    # Cheap argon2id for speed: the tests exercise the derivation, not its cost.
    return Config.from_env({
        "HAVEN_INSTANCE": str(tmp_path / "instance"),
        "HAVEN_KDF_OPSLIMIT": "1",
        "HAVEN_KDF_MEMLIMIT_KIB": "8",
    }).with_changes(testing=True)


@pytest.fixture
def initialised(config: Config) -> Config:
    maintenance.init_database(config)
    return config


@pytest.fixture(params=["public", "staff"])
def role(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def app(initialised: Config, role: str) -> Flask:
    return create_app(role, initialised)


@pytest.fixture
def public_app(initialised: Config) -> Flask:
    return create_app("public", initialised)


@pytest.fixture
def staff_app(initialised: Config) -> Flask:
    return create_app("staff", initialised)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(staff_app: Flask) -> FlaskCliRunner:
    return staff_app.test_cli_runner()


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
