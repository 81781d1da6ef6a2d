"""The operator's supply-and-demand page and command: the right figures for a
seeded instance, and nothing of any request's content or requester."""

from __future__ import annotations

import datetime
import re

import pytest
from flask import Flask
from flask.testing import FlaskClient

from onion_app.config import Config
from onion_app.store import Database, oversight
from tests import journey as requester
from tests.haven_cli import cli_runner
from tests.journey import add_volunteer
from tests.staff_journey import PASSPHRASE, enrol, install_clock

TITLE, STORY = "Secret title 7731", "Secret story 9925"


@pytest.fixture
def seeded(public_app: Flask, staff_app: Flask, initialised: Config) -> FlaskClient:
    """Two lawyers for Persian; three open requests (legal in Persian twice,
    care in Arabic once, nobody for it), one closed; an operator signed in."""
    with Database(initialised).connect() as conn:
        add_volunteer(conn, "lawyer1", ["legal"], ["fa"])
        add_volunteer(conn, "lawyer2", ["legal"], ["fa", "en"])
        add_volunteer(conn, "paused", ["care"], ["ar"], available=False)
    asker = public_app.test_client()
    requester.new_account(asker)
    for skills, languages in ((["legal"], ["fa"]), (["legal"], ["fa"]), (["care"], ["ar"]),
                              (["press"], ["ru"])):
        requester.submitted_id(asker, skills=skills, languages=languages, title=TITLE,
                               story=STORY)
    closed = re.findall(r'href="/requests/([A-Za-z0-9_-]{22})"', asker.get("/requests").get_data(
        as_text=True))[0]
    asker.post(f"/requests/{closed}/close",
               data={"csrf_token": requester.csrf(asker, f"/requests/{closed}")})
    result = cli_runner(staff_app).invoke(args=["operator", "create", "op"],
                                          input=f"{PASSPHRASE}\n{PASSPHRASE}\n")
    assert result.exit_code == 0, result.output
    operator = staff_app.test_client()
    enrol(operator, install_clock(staff_app), "op")
    return operator


def test_the_figures_of_a_seeded_instance(seeded: FlaskClient, initialised: Config) -> None:
    with Database(initialised).connect() as conn:
        found = oversight.supply_and_demand(conn, datetime.date.today(), 3)
        later = oversight.supply_and_demand(conn, datetime.date.today()
                                            + datetime.timedelta(days=4), 3)
    # The newest request (press in Russian) was closed; care in Arabic has
    # only a paused volunteer, so nobody reads it.
    assert (found.unread, found.waiting, later.waiting) == (1, 0, 3)
    table = {(g.skill, g.language): (g.demand, g.supply) for g in found.gaps}
    assert table == {("legal", "fa"): (2, 2), ("care", "ar"): (1, 0),
                     ("legal", "en"): (0, 1)}
    assert found.gaps[0].skill == "care"  # the widest gap first


def test_the_page_and_the_command_show_them_without_content(seeded: FlaskClient,
                                                            staff_app: Flask) -> None:
    page = seeded.get("/operator/supply").get_data(as_text=True)
    assert re.search(r"nobody but their requester can read</dt><dd>1<", page)
    assert "Medical and psychological support" in page
    printed = cli_runner(staff_app).invoke(args=["supply", "--days", "3"])
    assert printed.exit_code == 0, printed.output
    assert "nobody but their requester can read: 1" in printed.output
    assert re.search(r"^care\s+ar\s+1\s+0$", printed.output, re.M)
    assert re.search(r"^legal\s+fa\s+2\s+2$", printed.output, re.M)
    for shown in (page, printed.output):
        assert TITLE not in shown
        assert STORY not in shown
        assert not re.search(r"/requests/[A-Za-z0-9_-]{22}", shown)
    assert len(page.encode()) <= 10_000
