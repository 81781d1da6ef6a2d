"""The operator's tor page, from the status file a running Haven writes."""

from __future__ import annotations

import datetime

import pytest
from flask import Flask
from flask.testing import FlaskClient

from onion_app.config import Config
from onion_app.serving.onions import save_status
from onion_app.serving.running import InstanceLock
from tests.haven_cli import cli_runner
from tests.staff_journey import PASSPHRASE, enrol, install_clock
from tor_config.bootstrap import BootstrapProgress
from tor_config.status import ServiceStatus, TorStatus, UploadCounts


@pytest.fixture
def operator(staff_app: Flask) -> FlaskClient:
    clock = install_clock(staff_app)
    runner = cli_runner(staff_app)
    runner.invoke(args=["operator", "create", "op"], input=f"{PASSPHRASE}\n{PASSPHRASE}\n")
    runner.invoke(args=["staff-key", "add", "laptop"])
    client = staff_app.test_client()
    enrol(client, clock, "op")
    return client


def test_stopped_haven_shows_addresses_and_devices(operator: FlaskClient) -> None:
    page = operator.get("/operator/tor").get_data(as_text=True)
    assert "is not serving onion services" in page
    assert "made at first start" in page  # the public key is made at first start
    assert ".onion" in page  # the staff address exists: staff-key add made its key
    assert "<bdi>laptop</bdi>" in page


@pytest.mark.parametrize(("devices", "said"), [(1, "1 authorized device<"),
                                              (2, "2 authorized devices")])
def test_running_haven_shows_the_status_file(operator: FlaskClient, initialised: Config,
                                             devices: int, said: str) -> None:
    status = TorStatus("0.4.9.11", BootstrapProgress(0, "starting", "Starting"), (
        ServiceStatus("public", "a" * 56 + ".onion", True, True, 0,
                      (UploadCounts(datetime.date(2026, 11, 26), 6, 1),)),
        ServiceStatus("staff", "b" * 56 + ".onion", True, False, devices, ()),
    ))
    save_status(initialised, status)
    lock = InstanceLock(initialised)
    lock.acquire()
    try:
        page = operator.get("/operator/tor").get_data(as_text=True)
    finally:
        lock.release()
    assert "Tor 0.4.9.11, bootstrapped 0%." in page
    assert "cannot reach the network yet" in page
    assert "proof-of-work defence on" in page
    assert said in page
    assert "6 uploaded, 1 failed" in page


def test_tor_unreachable_is_said_plainly(operator: FlaskClient, initialised: Config) -> None:
    save_status(initialised, None, "control connection lost")
    lock = InstanceLock(initialised)
    lock.acquire()
    try:
        page = operator.get("/operator/tor").get_data(as_text=True)
    finally:
        lock.release()
    assert "the watchdog is bringing it back" in page
