"""The mail section of the volunteer's account page."""

from __future__ import annotations

import html

import pytest
from flask import Flask
from flask.testing import FlaskClient

from onion_app.config import Config
from onion_app.store import Database
from tests.haven_cli import cli_runner
from tests.journey import csrf
from tests.staff_journey import PASSPHRASE, apply, approve, enrol, install_clock

ADDRESS = "someone@example.net"
NO_RELAY = "This Haven has no mail relay set up, so no mail is sent for now."


@pytest.fixture
def people(staff_app: Flask) -> tuple[FlaskClient, FlaskClient]:
    """(operator, volunteer), both signed in."""
    clock = install_clock(staff_app)
    made = cli_runner(staff_app).invoke(args=["operator", "create", "op"],
                                        input=f"{PASSPHRASE}\n{PASSPHRASE}\n")
    assert made.exit_code == 0, made.output
    operator = staff_app.test_client()
    enrol(operator, clock, "op")
    volunteer = staff_app.test_client()
    assert apply(volunteer, "lawyer").status_code == 200
    approve(operator, "lawyer")
    enrol(volunteer, clock, "lawyer")
    return operator, volunteer


def save(client: FlaskClient, **fields: str) -> tuple[int, str]:
    data = {"csrf_token": csrf(client, "/account"), "address": ADDRESS, "choice": "news",
            "pgp_key": "", **fields}
    response = client.post("/account/notifications", data=data, follow_redirects=True)
    return response.status_code, response.get_data(as_text=True)


def test_without_a_relay_the_page_says_so(people: tuple[FlaskClient, FlaskClient]) -> None:
    _operator, volunteer = people
    page = volunteer.get("/account").get_data(as_text=True)
    assert NO_RELAY in page
    assert "from 09:00 server time" in page
    assert len(page.encode()) <= 10 * 1024


def test_a_bad_address_is_explained_and_kept(people: tuple[FlaskClient, FlaskClient]) -> None:
    _operator, volunteer = people
    status, page = save(volunteer, address="someone@@example", choice="daily")
    assert status == 400
    assert "Enter an address like name@example.org." in page
    assert 'value="someone@@example"' in page
    assert '<input type=radio name=choice value=daily checked>' in page


@pytest.mark.parametrize("key", [
    "-----BEGIN PGP PRIVATE KEY BLOCK-----\n\nAAAA\n-----END PGP PRIVATE KEY BLOCK-----",
    "not a key at all",
])
def test_an_unusable_key_is_refused_and_the_rest_kept(people: tuple[FlaskClient, FlaskClient],
                                                      key: str) -> None:
    _operator, volunteer = people
    status, page = save(volunteer, pgp_key=key)
    assert status == 400
    assert "Paste one OpenPGP public key that can encrypt" in page
    assert f'value="{ADDRESS}"' in page
    assert html.escape(key, quote=False) in page


def test_opting_in_and_out(people: tuple[FlaskClient, FlaskClient], initialised: Config) -> None:
    operator, volunteer = people
    status, page = save(volunteer)
    assert status == 200
    assert "Your mail settings are saved." in page
    assert f'<bdi dir="ltr">{ADDRESS}</bdi>' in page
    assert "None: the mail is readable by your mail provider" in page
    assert len(page.encode()) <= 10 * 1024
    for url in ("/operator/volunteers", "/operator/audit", "/operator/applications",
                "/dashboard"):
        assert ADDRESS not in operator.get(url).get_data(as_text=True), url
    stopped = volunteer.post("/account/notifications/stop",
                             data={"csrf_token": csrf(volunteer, "/account")},
                             follow_redirects=True).get_data(as_text=True)
    assert "No more mail: your address and key are forgotten." in stopped
    assert ADDRESS not in stopped
    with Database(initialised).connect() as conn:
        assert conn.execute("SELECT count(*) FROM volunteer_notifications").fetchone()[0] == 0
