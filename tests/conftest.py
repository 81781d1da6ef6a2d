"""Shared fixtures: apps over a temporary instance folder, built the way
production builds them (``Config.from_env``), never by a side road."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from tor_network import PrivateNetwork, shared_network

from onion_app import create_app
from onion_app.config import Config
from onion_app.store import maintenance


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
