"""Operators: vetting, suspension, moderation by metadata, counts, audit, retention."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient

from onion_app.config import Config
from onion_app.operator.views import VOLUNTEERS_PAGE_SIZE
from onion_app.store import Database
from tests import journey as requester
from tests.haven_cli import cli_runner
from tests.journey import csrf
from tests.staff_journey import (
    PASSPHRASE,
    StepClock,
    apply,
    approve,
    audit_log,
    button,
    enrol,
    install_clock,
    login,
)


@pytest.fixture
def clock(staff_app: Flask) -> StepClock:
    return install_clock(staff_app)


@pytest.fixture
def operator(staff_app: Flask, clock: StepClock) -> FlaskClient:
    result = cli_runner(staff_app).invoke(
        args=["operator", "create", "op"], input=f"{PASSPHRASE}\n{PASSPHRASE}\n")
    assert result.exit_code == 0, result.output
    assert PASSPHRASE not in result.output
    client = staff_app.test_client()
    enrol(client, clock, "op", lands="/operator/applications")
    return client


def _volunteer_id(operator: FlaskClient, handle: str) -> str:
    page = operator.get("/operator/volunteers").get_data(as_text=True)
    start = page.index(f"<bdi>{handle}</bdi>")
    return page[start:].split("/operator/volunteers/")[1][:22]


def _audit(config: Config) -> list[tuple[str, str, str]]:
    return audit_log(config)


def test_operator_create_refuses_weak_and_taken(staff_app: Flask, operator: FlaskClient) -> None:
    runner = cli_runner(staff_app)
    taken = runner.invoke(args=["operator", "create", "op"])
    assert taken.exit_code != 0
    assert "taken" in taken.output
    weak = runner.invoke(args=["operator", "create", "op2"],
                         input="qwertyuiop123\nqwertyuiop123\n")
    assert weak.exit_code != 0
    assert "lists attackers try first" in weak.output


def test_application_is_read_then_approved_or_rejected(staff_app: Flask, operator: FlaskClient,
                                                       clock: StepClock,
                                                       initialised: Config) -> None:
    yes, no = staff_app.test_client(), staff_app.test_client()
    apply(yes, "good-lawyer", bio="Twenty years of asylum law.")
    apply(no, "spammer")
    listing = operator.get("/operator/applications").get_data(as_text=True)
    assert "good-lawyer" in listing
    assert "spammer" in listing
    url = re.search(r'href="(/operator/applications/[^"]+)"><bdi>good-lawyer', listing)
    assert url
    page = operator.get(url.group(1)).get_data(as_text=True)
    assert "Twenty years of asylum law." in page
    assert "Ask the Berlin bar association." in page
    approve(operator, "good-lawyer")
    url = re.search(r'href="(/operator/applications/[^"]+)"><bdi>spammer',
                    operator.get("/operator/applications").get_data(as_text=True))
    assert url
    button(operator, url.group(1), url.group(1), decision="reject", note="no references")
    assert operator.get(url.group(1)).status_code == 404  # decided: no longer pending
    enrol(yes, clock, "good-lawyer")
    assert yes.get("/dashboard").status_code == 200
    refused = login(no, "spammer")
    assert refused.status_code == 400
    log = _audit(initialised)
    assert ("op", "approved", "volunteer good-lawyer") in log
    assert ("op", "rejected", "volunteer spammer") in log


def test_suspension_ends_sessions_and_reinstating_restores(staff_app: Flask,
                                                           operator: FlaskClient,
                                                           clock: StepClock) -> None:
    lawyer = staff_app.test_client()
    apply(lawyer, "lawyer")
    approve(operator, "lawyer")
    secret = enrol(lawyer, clock, "lawyer")
    assert lawyer.get("/dashboard").status_code == 200
    volunteer_id = _volunteer_id(operator, "lawyer")
    button(operator, f"/operator/volunteers/{volunteer_id}/suspend", "/operator/volunteers")
    assert lawyer.get("/dashboard").status_code == 302  # the live session is gone
    assert login(lawyer, "lawyer", PASSPHRASE, clock.next_code(secret)).status_code == 400
    button(operator, f"/operator/volunteers/{volunteer_id}/reinstate", "/operator/volunteers")
    assert login(lawyer, "lawyer", PASSPHRASE, clock.next_code(secret)).status_code == 302


def test_suspension_ends_an_enrolment_in_progress(staff_app: Flask, operator: FlaskClient,
                                                  clock: StepClock) -> None:
    newbie = staff_app.test_client()
    apply(newbie, "newbie")
    approve(operator, "newbie")
    assert login(newbie, "newbie").location == "/enrol"
    assert newbie.get("/enrol").status_code == 200
    volunteer_id = _volunteer_id(operator, "newbie")
    button(operator, f"/operator/volunteers/{volunteer_id}/suspend", "/operator/volunteers")
    assert newbie.get("/enrol").status_code == 302
    assert newbie.get("/enrol/qr.png").status_code == 404


def test_operators_are_granted_and_revoked(staff_app: Flask, operator: FlaskClient,
                                           clock: StepClock) -> None:
    other = staff_app.test_client()
    apply(other, "second-op")
    approve(operator, "second-op")
    enrol(other, clock, "second-op")
    assert other.get("/operator/").status_code == 404
    volunteer_id = _volunteer_id(operator, "second-op")
    button(operator, f"/operator/volunteers/{volunteer_id}/grant", "/operator/volunteers")
    assert other.get("/operator/").status_code == 200
    button(operator, f"/operator/volunteers/{volunteer_id}/revoke", "/operator/volunteers")
    assert other.get("/operator/").status_code == 404


def test_an_operator_cannot_suspend_themself(operator: FlaskClient) -> None:
    page = operator.get("/operator/volunteers").get_data(as_text=True)
    assert "/suspend" not in page
    own = re.search(r'<bdi>op</bdi>', page)
    assert own


def test_only_flagged_requests_can_be_deleted(staff_app: Flask, public_app: Flask,
                                              operator: FlaskClient, clock: StepClock,
                                              initialised: Config) -> None:
    lawyer = staff_app.test_client()
    apply(lawyer, "lawyer", skills=("legal",), languages=("fa",))
    approve(operator, "lawyer")
    enrol(lawyer, clock, "lawyer")
    asker = public_app.test_client()
    requester.new_account(asker)
    kept = requester.submitted_id(asker, title="KEPT-TITLE")
    spam = requester.submitted_id(asker, title="SPAM-TITLE")
    button(lawyer, f"/cases/{spam}/flag", f"/cases/{spam}", reason="spam")
    listing = operator.get("/operator/requests?flagged=1").get_data(as_text=True)
    assert "1 request." in listing
    assert "SPAM-TITLE" not in listing
    assert f"/operator/requests/{kept}/delete" not in listing
    not_flagged = button(operator, f"/operator/requests/{kept}/delete", "/operator/requests")
    assert not_flagged.status_code == 302
    assert asker.get(f"/requests/{kept}").status_code == 200
    button(operator, f"/operator/requests/{spam}/delete", "/operator/requests")
    assert asker.get(f"/requests/{spam}").status_code == 404
    # The line names no deleted request (so none is linked to anyone).
    assert ("op", "deleted a flagged request", "") in _audit(initialised)
    assert ("lawyer", "flagged (spam)", "a deleted request") in _audit(initialised)


def test_counts_show_numbers_not_content(staff_app: Flask, public_app: Flask,
                                         operator: FlaskClient) -> None:
    asker = public_app.test_client()
    requester.new_account(asker)
    requester.submitted_id(asker, title="COUNT-TITLE", skills=["legal"], languages=["fa"])
    page = operator.get("/operator/").get_data(as_text=True)
    assert "COUNT-TITLE" not in page
    assert re.search(r"Legal help and asylum</th><td>1</td>", page)
    unmatched = page.split("where volunteers are missing")[1]
    assert "Legal help and asylum" in unmatched


def _table(page: str, heading: str) -> list[tuple[str, int]]:
    """The rows of the table under ``heading``: (label, number)."""
    part = page.split(f"<h2>{heading}</h2>")[1].split("</table>")[0]
    return [(label, int(number)) for label, number in
            re.findall(r'<th scope="row">(.*?)</th><td>(\d+)</td>', part)]


def test_an_operator_signs_in_to_the_applications_waiting(staff_app: Flask,
                                                           clock: StepClock) -> None:
    made = cli_runner(staff_app).invoke(args=["operator", "create", "op"],
                                        input=f"{PASSPHRASE}\n{PASSPHRASE}\n")
    assert made.exit_code == 0, made.output
    first = staff_app.test_client()
    # Vetting is what an operator comes for: not an empty list of requests.
    secret = enrol(first, clock, "op", lands="/operator/applications")
    empty = first.get("/operator/applications").get_data(as_text=True)
    assert "No applications are waiting." in empty
    assert "staff-key add" in empty  # how a volunteer reaches /apply at all
    later = staff_app.test_client()
    signed_in = login(later, "op", PASSPHRASE, clock.next_code(secret))
    assert signed_in.location == "/dashboard"  # nothing waits: their requests
    apply(staff_app.test_client(), "waiting-one")
    again = staff_app.test_client()
    signed_in = login(again, "op", PASSPHRASE, clock.next_code(secret))
    assert signed_in.location == "/operator/applications"


def test_counts_speak_words_and_their_totals_add_up(staff_app: Flask, public_app: Flask,
                                                    operator: FlaskClient) -> None:
    asker = public_app.test_client()
    requester.new_account(asker)
    for skills in (["legal"], ["legal", "press"], ["press", "care", "art"]):
        requester.submitted_id(asker, skills=skills)
    apply(staff_app.test_client(), "waiting-one")
    page = operator.get("/operator/").get_data(as_text=True)
    by_status = _table(page, "Requests by status")
    assert by_status == [("Open", 3), ("Total", 3)]
    volunteers = _table(page, "Volunteers by status")
    assert ("Waiting for an operator", 1) in volunteers
    assert ("Approved", 1) in volunteers  # the operator
    assert volunteers[-1] == ("Total", sum(n for _, n in volunteers[:-1]))
    by_skill = _table(page, "Requests by skill")
    assert sum(n for _, n in by_skill) == 6
    assert "3 requests in all; each can ask for more than one skill" in page
    for code in ("open", "applied", "vetted"):
        assert f">{code}<" not in page


def test_audit_log_is_append_only(operator: FlaskClient, initialised: Config) -> None:
    page = operator.get("/operator/audit").get_data(as_text=True)
    assert "created operator" in page
    conn = Database(initialised).open()
    for statement in ("UPDATE audit_log SET action = 'x'", "DELETE FROM audit_log"):
        with pytest.raises(Exception, match="append-only"):
            conn.execute(statement)
    conn.close()


def test_purge_removes_untouched_requests(staff_app: Flask, public_app: Flask,
                                          initialised: Config) -> None:
    asker = public_app.test_client()
    requester.new_account(asker)
    old = requester.submitted_id(asker, title="OLD")
    fresh = requester.submitted_id(asker, title="FRESH")
    requester.reply(asker, old, "a message in the old thread")
    conn = Database(initialised).open()
    conn.execute("UPDATE requests SET updated_on = '2020-01-01' WHERE public_id = ?", (old,))
    conn.commit()
    conn.close()
    result = cli_runner(staff_app).invoke(args=["purge"])
    assert result.exit_code == 0, result.output
    assert "purged 1 request untouched for 90 days" in result.output
    assert asker.get(f"/requests/{old}").status_code == 404
    assert asker.get(f"/requests/{fresh}").status_code == 200
    conn = Database(initialised).open()
    assert conn.execute("SELECT count(*) FROM messages").fetchone()[0] == 0
    conn.close()


def test_csrf_is_needed_for_operator_actions(operator: FlaskClient) -> None:
    response = operator.post("/operator/volunteers/AAAAAAAAAAAAAAAAAAAAAA/suspend", data={})
    assert response.status_code == 400
    assert csrf(operator, "/operator/volunteers")


def test_the_volunteer_list_is_paged_and_an_action_returns_to_its_page(
        staff_app: Flask, operator: FlaskClient) -> None:
    for n in range(VOLUNTEERS_PAGE_SIZE + 1):
        apply(staff_app.test_client(), f"vol{n:02d}")
        approve(operator, f"vol{n:02d}")
    operator.get("/operator/")  # shows, so forgets, the last approval's notice
    first = operator.get("/operator/volunteers").get_data(as_text=True)
    assert first.count("<tr>") == VOLUNTEERS_PAGE_SIZE + 1  # the heading row, a page of rows
    last = f"<bdi>vol{VOLUNTEERS_PAGE_SIZE:02d}</bdi>"  # by handle, after "op"
    assert last not in first
    second = operator.get("/operator/volunteers?page=2").get_data(as_text=True)
    assert last in second
    target = second.split('action="/operator/volunteers/')[1].split('"')[0]
    assert target.endswith("/suspend?page=2")
    done = button(operator, "/operator/volunteers/" + target, "/operator/volunteers?page=2")
    assert done.status_code == 302
    assert done.location == "/operator/volunteers?page=2"
    assert "is suspended." in operator.get(done.location).get_data(as_text=True)
