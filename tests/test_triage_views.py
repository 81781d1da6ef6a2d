"""Offering to triage: on /apply, on the account page, and seen when vetting."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient

from onion_app.config import Config
from onion_app.store import Database, staff
from tests import journey as requester
from tests.haven_cli import cli_runner
from tests.journey import csrf
from tests.staff_journey import PASSPHRASE, StepClock, apply, approve, enrol, install_clock

LABEL = "Triage: read requests that nobody else matches, and pass them to the right people"


@pytest.fixture
def clock(staff_app: Flask) -> StepClock:
    return install_clock(staff_app)


@pytest.fixture
def operator(staff_app: Flask, clock: StepClock) -> FlaskClient:
    result = cli_runner(staff_app).invoke(args=["operator", "create", "op"],
                                          input=f"{PASSPHRASE}\n{PASSPHRASE}\n")
    assert result.exit_code == 0, result.output
    client = staff_app.test_client()
    enrol(client, clock, "op")
    return client


def _triage(config: Config, handle: str) -> bool:
    with Database(config).connect() as conn:
        found = staff.by_handle(conn, handle)
    assert found is not None
    return found.triage


def test_the_offer_is_made_on_apply_and_seen_when_vetting(
        staff_app: Flask, operator: FlaskClient, initialised: Config) -> None:
    offering, not_offering = staff_app.test_client(), staff_app.test_client()
    assert LABEL in offering.get("/apply").get_data(as_text=True)
    apply(offering, "sorter", triage="y")
    apply(not_offering, "lawyer")
    assert (_triage(initialised, "sorter"), _triage(initialised, "lawyer")) == (True, False)
    listing = operator.get("/operator/applications").get_data(as_text=True)
    for handle, shown in (("sorter", "Offers to triage"), ("lawyer", "<dd>No</dd>")):
        url = re.search(r'href="(/operator/applications/[^"]+)"><bdi>' + handle, listing)
        assert url
        assert shown in operator.get(url.group(1)).get_data(as_text=True)


def test_the_offer_is_changed_on_the_account_page(
        staff_app: Flask, operator: FlaskClient, clock: StepClock,
        initialised: Config) -> None:
    volunteer = staff_app.test_client()
    apply(volunteer, "lawyer")
    approve(operator, "lawyer")
    enrol(volunteer, clock, "lawyer")
    page = volunteer.get("/account").get_data(as_text=True)
    assert LABEL in page
    assert 'name="triage" value="y">' in page  # not checked
    volunteer.post("/account/triage", data={"csrf_token": csrf(volunteer, "/account"),
                                            "triage": "y"})
    assert _triage(initialised, "lawyer") is True
    assert 'name="triage" value="y" checked>' in volunteer.get("/account").get_data(as_text=True)
    volunteer.post("/account/triage", data={"csrf_token": csrf(volunteer, "/account")})
    assert _triage(initialised, "lawyer") is False


def test_a_triage_volunteer_passes_a_request_to_someone_who_reads_its_language(
        public_app: Flask, staff_app: Flask, operator: FlaskClient, clock: StepClock,
        initialised: Config) -> None:
    sorter, writer = staff_app.test_client(), staff_app.test_client()
    apply(sorter, "sorter", skills=("research",), languages=("fa",), triage="y")
    apply(writer, "writer", skills=("writing",), languages=("fa",))
    for handle, client in (("sorter", sorter), ("writer", writer)):
        approve(operator, handle)
        enrol(client, clock, handle)
    asker = public_app.test_client()
    requester.new_account(asker)
    public_id = requester.submitted_id(asker, skills=["press"], languages=["fa"])
    assert "for triage" in sorter.get("/dashboard").get_data(as_text=True)
    case = sorter.get(f"/cases/{public_id}").get_data(as_text=True)
    writer_id = re.search(r'<option value="([^"]+)">writer</option>', case)
    assert writer_id, "the writer shares the request's language: triage may refer to them"
    sorter.post(f"/cases/{public_id}/refer", data={
        "csrf_token": csrf(sorter, f"/cases/{public_id}"), "volunteer": writer_id.group(1)})
    listed = writer.get("/dashboard").get_data(as_text=True)
    assert f"/cases/{public_id}" in listed
    assert "for triage" not in listed
