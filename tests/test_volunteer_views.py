"""Volunteers on the staff app: apply, vetting, TOTP, caseload, account."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from nacl.public import PublicKey

from crypto.keytext import encode_public_key
from onion_app.config import Config
from onion_app.domain import sealing
from onion_app.requester.forms import HELP_MAX, STORY_MAX, TITLE_MAX
from onion_app.store import Database
from onion_app.web.state import state_of
from tests import journey as requester
from tests.database_pages import decrypted_pages
from tests.haven_cli import cli_runner
from tests.journey import HEAVY, csrf, dump_database, heaviest_thread, thread_pages
from tests.staff_journey import (
    PASSPHRASE,
    StepClock,
    Volunteer,
    apply,
    approve,
    audit_log,
    button,
    enrol,
    install_clock,
    login,
    sign_in,
)
from tests.test_security import check_headers, check_markup


@dataclass
class Staff:
    app: Flask
    public: Flask
    clock: StepClock
    operator: FlaskClient


@pytest.fixture
def site(staff_app: Flask, public_app: Flask) -> Staff:
    clock = install_clock(staff_app)
    result = cli_runner(staff_app).invoke(
        args=["operator", "create", "op"], input=f"{PASSPHRASE}\n{PASSPHRASE}\n")
    assert result.exit_code == 0, result.output
    operator = staff_app.test_client()
    enrol(operator, clock, "op")
    return Staff(staff_app, public_app, clock, operator)


def vetted(site: Staff, handle: str, **kwargs: object) -> tuple[FlaskClient, Volunteer]:
    client = site.app.test_client()
    assert apply(client, handle, **kwargs).status_code == 200  # type: ignore[arg-type]
    approve(site.operator, handle)
    volunteer = Volunteer(handle, PASSPHRASE)
    volunteer.secret = enrol(client, site.clock, handle)
    return client, volunteer


def asked(site: Staff, story: str = "STORY-MARKER", **changes: object) -> tuple[FlaskClient, str]:
    client = site.public.test_client()
    requester.new_account(client)
    return client, requester.submitted_id(client, story=story, **changes)


def test_the_landing_page_says_how_to_make_the_first_operator(staff_app: Flask) -> None:
    before = staff_app.test_client().get("/").get_data(as_text=True)
    assert "No operator yet." in before
    assert ".venv/bin/haven operator create HANDLE" in before
    made = cli_runner(staff_app).invoke(args=["operator", "create", "op"],
                                        input=f"{PASSPHRASE}\n{PASSPHRASE}\n")
    assert made.exit_code == 0, made.output
    # The anonymous landing page is cached for seconds; a query string is not.
    after = staff_app.test_client().get("/?again").get_data(as_text=True)
    assert "No operator yet." not in after
    assert "operator create" not in after


def test_apply_waits_for_an_operator(site: Staff) -> None:
    client = site.app.test_client()
    response = apply(client, "berlin-lawyer")
    assert response.status_code == 200
    assert "waits for an operator" in response.get_data(as_text=True)
    waiting = login(client, "berlin-lawyer")
    assert waiting.status_code == 400
    assert "still waiting for an operator" in waiting.get_data(as_text=True)


def test_an_application_redirects_after_post(site: Staff) -> None:
    client = site.app.test_client()
    sent = apply(client, "berlin-lawyer", follow_redirects=False)
    assert sent.status_code == 303
    assert sent.location == "/apply/sent"
    again = client.get("/apply/sent")  # a reload shows the page, sends nothing twice
    assert "berlin-lawyer" in again.get_data(as_text=True)
    assert site.app.test_client().get("/apply/sent").status_code == 302


@pytest.mark.parametrize(("passphrase", "message"), [
    ("Zx7-tiny", "at least 12 characters"),
    ("qwertyuiop123", "lists attackers try first"),
    ("aaaaaaaaaaaaaaaa", "lists attackers try first"),
    ("my name is berlin-lawyer", "mostly your handle"),
    ("Berlin-Lawyer Berlin-Lawyer 7", "mostly your handle"),
])
def test_weak_passphrases_are_refused_with_reasons(site: Staff, passphrase: str,
                                                   message: str) -> None:
    response = apply(site.app.test_client(), "berlin-lawyer", passphrase=passphrase)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert message in page
    assert passphrase not in page
    assert "I am berlin-lawyer, a lawyer in Berlin." in page  # the rest is kept


def test_mismatched_confirmation(site: Staff) -> None:
    client = site.app.test_client()
    assert "differ" in apply(client, "x-one", confirm="something else entirely"
                             ).get_data(as_text=True)


def test_bad_offline_key_is_explained(site: Staff) -> None:
    response = apply(site.app.test_client(), "offline-one", offline_key="haven-pk1:nonsense")
    assert response.status_code == 400
    assert "not a Haven public key" in response.get_data(as_text=True)


def test_login_needs_passphrase_and_a_fresh_code(site: Staff) -> None:
    client, volunteer = vetted(site, "lawyer")
    button(client, "/logout", "/dashboard")
    assert volunteer.secret
    wrong_pass = login(client, "lawyer", "not the passphrase at all",
                       site.clock.next_code(volunteer.secret))
    unknown = login(client, "nobody-here", PASSPHRASE, "123456")
    wrong_code = login(client, "lawyer", PASSPHRASE, "000000")
    for response in (wrong_pass, unknown, wrong_code):
        assert response.status_code == 400
        assert "Those details did not match" in response.get_data(as_text=True)
    code = site.clock.next_code(volunteer.secret)
    assert login(client, "lawyer", PASSPHRASE, code).status_code == 302
    button(client, "/logout", "/dashboard")
    reused = login(client, "lawyer", PASSPHRASE, code)
    assert reused.status_code == 400  # the same code never works twice


def test_five_failures_hold_the_account_and_are_audited(site: Staff,
                                                        initialised: Config) -> None:
    client, volunteer = vetted(site, "lawyer")
    button(client, "/logout", "/dashboard")
    for _ in range(5):
        login(client, "lawyer", "wrong passphrase here", "000000")
    held = sign_in(client, site.clock, volunteer)
    assert held.status_code == 429
    assert "Too many attempts" in held.get_data(as_text=True)
    conn = Database(initialised).open()
    actions = [r[0] for r in conn.execute("SELECT action FROM audit_log")]
    conn.close()
    assert "login held after repeated failures" in actions


def test_enrolment_shows_the_secret_as_text_and_png(site: Staff) -> None:
    client = site.app.test_client()
    apply(client, "newbie")
    approve(site.operator, "newbie")
    login(client, "newbie")
    page = client.get("/enrol").get_data(as_text=True)
    assert re.search(r'<code class="secret">[A-Z2-7]{32}</code>', page)
    assert '<img src="/enrol/qr.png"' in page
    png = client.get("/enrol/qr.png")
    assert png.mimetype == "image/png"
    assert png.data.startswith(b"\x89PNG")
    assert png.headers["Cache-Control"] == "no-store"
    wrong = client.post("/enrol", data={"csrf_token": csrf(client, "/enrol"), "code": "000000"})
    assert wrong.status_code == 400
    assert client.get("/dashboard").status_code == 302  # not in until confirmed


def test_matched_volunteer_reads_claims_and_replies(site: Staff, initialised: Config) -> None:
    lawyer, _ = vetted(site, "lawyer", skills=("legal",), languages=("fa",))
    painter, _ = vetted(site, "painter", skills=("art",), languages=("fa",))
    requester_client, public_id = asked(site, title="TITLE-MARKER")
    dashboard = lawyer.get("/dashboard").get_data(as_text=True)
    assert "TITLE-MARKER" in dashboard
    assert "<b>New</b>" in dashboard  # never opened: new, not "0"
    assert "TITLE-MARKER" not in painter.get("/dashboard").get_data(as_text=True)
    assert painter.get(f"/cases/{public_id}").status_code == 404
    case = lawyer.get(f"/cases/{public_id}").get_data(as_text=True)
    assert "STORY-MARKER" in case
    claimed = button(lawyer, f"/cases/{public_id}/claim", f"/cases/{public_id}")
    assert claimed.status_code == 302
    reply = lawyer.post(f"/cases/{public_id}/reply", data={
        "csrf_token": csrf(lawyer, f"/cases/{public_id}"), "text": "VOLUNTEER-REPLY-MARKER"})
    assert reply.status_code == 302
    seen = requester_client.get(f"/requests/{public_id}").get_data(as_text=True)
    assert "VOLUNTEER-REPLY-MARKER" in seen
    assert "Someone is helping: <bdi>lawyer</bdi>" in seen
    requester.reply(requester_client, public_id, "REQUESTER-ANSWER-MARKER")
    dashboard = lawyer.get("/dashboard").get_data(as_text=True)
    assert "1 new message<" in dashboard
    assert ">New<" not in dashboard  # opened before: only the new message is marked
    assert "REQUESTER-ANSWER-MARKER" in lawyer.get(f"/cases/{public_id}").get_data(as_text=True)
    conn = Database(initialised).open()
    dump = dump_database(conn)
    conn.close()
    for marker in ("TITLE-MARKER", "STORY-MARKER", "VOLUNTEER-REPLY-MARKER",
                   "REQUESTER-ANSWER-MARKER"):
        assert marker not in dump


def test_refer_release_resolve_flag(site: Staff, initialised: Config) -> None:
    lawyer, _ = vetted(site, "lawyer", skills=("legal",), languages=("fa",))
    _, public_id = asked(site)
    # A second lawyer approved after the request was sealed: not a reader yet.
    second, _ = vetted(site, "lawyer2", skills=("legal",), languages=("en",))
    assert second.get(f"/cases/{public_id}").status_code == 404
    page = lawyer.get(f"/cases/{public_id}").get_data(as_text=True)
    target = re.search(r'<option value="([A-Za-z0-9_-]{22})">lawyer2</option>', page)
    assert target
    referred = button(lawyer, f"/cases/{public_id}/refer", f"/cases/{public_id}",
                      volunteer=target.group(1))
    assert referred.status_code == 302
    assert "STORY-MARKER" in second.get(f"/cases/{public_id}").get_data(as_text=True)
    button(lawyer, f"/cases/{public_id}/claim", f"/cases/{public_id}")
    assert "You are helping" in lawyer.get(f"/cases/{public_id}").get_data(as_text=True)
    button(lawyer, f"/cases/{public_id}/release", f"/cases/{public_id}")
    assert "Nobody is helping yet" in lawyer.get(f"/cases/{public_id}").get_data(as_text=True)
    button(second, f"/cases/{public_id}/flag", f"/cases/{public_id}", reason="spam")
    button(lawyer, f"/cases/{public_id}/claim", f"/cases/{public_id}")
    button(lawyer, f"/cases/{public_id}/resolve", f"/cases/{public_id}", confirm="resolve")
    assert "Resolved" in lawyer.get(f"/cases/{public_id}").get_data(as_text=True)
    log = audit_log(initialised)
    assert ("lawyer", "referred", f"request {public_id}, volunteer lawyer2") in log
    assert ("lawyer2", "flagged (spam)", f"request {public_id}") in log


def test_dashboard_filters_and_pages(site: Staff) -> None:
    lawyer, _ = vetted(site, "lawyer", skills=("legal", "press"), languages=("fa",))
    requester_client = site.public.test_client()
    requester.new_account(requester_client)
    for number in range(3):
        requester.submitted_id(requester_client, title=f"legal-{number}", skills=["legal"])
    requester.submitted_id(requester_client, title="press-only", skills=["press"])
    legal = lawyer.get("/dashboard?skill=legal").get_data(as_text=True)
    assert "legal-0" in legal
    assert "press-only" not in legal
    assert "4 requests" in lawyer.get("/dashboard").get_data(as_text=True)
    assert "0 requests" in lawyer.get("/dashboard?status=mine").get_data(as_text=True)
    for odd in ("?page=abc", "?page=-3", "?skill=<script>", "?status=nonsense&page=999"):
        response = lawyer.get("/dashboard" + odd)
        assert response.status_code == 200, odd
        check_markup(response.get_data(as_text=True))


def test_paused_volunteers_get_no_new_requests(site: Staff) -> None:
    lawyer, _ = vetted(site, "lawyer", skills=("legal",), languages=("fa",))
    button(lawyer, "/account/availability", "/account")
    assert "paused" in lawyer.get("/account").get_data(as_text=True).lower()
    asked(site, title="WHILE-PAUSED")
    assert "WHILE-PAUSED" not in lawyer.get("/dashboard").get_data(as_text=True)


def test_passphrase_change_keeps_access(site: Staff) -> None:
    lawyer, volunteer = vetted(site, "lawyer", skills=("legal",), languages=("fa",))
    _, public_id = asked(site)
    new = "copper meadow kettle orbit"
    changed = lawyer.post("/account/passphrase", data={
        "csrf_token": csrf(lawyer, "/account"), "current": PASSPHRASE, "passphrase": new,
        "confirm": new})
    assert changed.status_code == 302
    button(lawyer, "/logout", "/dashboard")
    assert volunteer.secret
    old = login(lawyer, "lawyer", PASSPHRASE, site.clock.next_code(volunteer.secret))
    assert old.status_code == 400
    assert login(lawyer, "lawyer", new, site.clock.next_code(volunteer.secret)).status_code == 302
    assert "STORY-MARKER" in lawyer.get(f"/cases/{public_id}").get_data(as_text=True)


def test_totp_reset_needs_passphrase_and_code(site: Staff) -> None:
    lawyer, volunteer = vetted(site, "lawyer")
    assert volunteer.secret
    refused = lawyer.post("/account/totp", data={
        "csrf_token": csrf(lawyer, "/account"), "current": PASSPHRASE, "code": "000000"})
    assert refused.status_code == 400
    reset = lawyer.post("/account/totp", data={
        "csrf_token": csrf(lawyer, "/account"), "current": PASSPHRASE,
        "code": site.clock.next_code(volunteer.secret)})
    assert reset.status_code == 302
    assert reset.location == "/enrol"
    assert secret_in(lawyer.get("/enrol").get_data(as_text=True)) != volunteer.secret


def secret_in(page: str) -> str:
    found = re.search(r'<code class="secret">([A-Z2-7]+)</code>', page)
    assert found
    return found.group(1)


def test_deleting_an_account_reopens_claims(site: Staff, initialised: Config) -> None:
    lawyer, _ = vetted(site, "lawyer", skills=("legal",), languages=("fa",))
    requester_client, public_id = asked(site)
    button(lawyer, f"/cases/{public_id}/claim", f"/cases/{public_id}")
    button(lawyer, "/account/delete", "/account/delete")
    assert lawyer.get("/dashboard").status_code == 302
    page = requester_client.get(f"/requests/{public_id}").get_data(as_text=True)
    assert "Someone is helping" not in page
    conn = Database(initialised).open()
    assert conn.execute("SELECT count(*) FROM request_readers WHERE volunteer_id IS NOT NULL"
                        ).fetchone()[0] == 0
    conn.close()


def test_staff_pages_carry_headers_and_no_script(site: Staff) -> None:
    lawyer, _ = vetted(site, "lawyer", skills=("legal",), languages=("fa",))
    _, public_id = asked(site, title='<script>alert(1)</script>')
    for path in ("/", "/dashboard", f"/cases/{public_id}", "/account", "/account/delete"):
        response = lawyer.get(path)
        assert response.status_code == 200, path
        check_headers(response)
        check_markup(response.get_data(as_text=True))


def test_a_session_ended_page_never_shows_passphrases(site: Staff) -> None:
    anonymous = site.app.test_client()
    secret = "my very secret current passphrase"
    response = anonymous.post("/account/passphrase", data={
        "csrf_token": csrf(anonymous, "/login"), "current": secret,
        "passphrase": secret + "2", "confirm": secret + "2"})
    assert response.status_code == 401
    assert secret not in response.get_data(as_text=True)


def test_an_abandoned_totp_reset_keeps_the_old_code(site: Staff) -> None:
    lawyer, volunteer = vetted(site, "lawyer")
    assert volunteer.secret
    begun = lawyer.post("/account/totp", data={
        "csrf_token": csrf(lawyer, "/account"), "current": PASSPHRASE,
        "code": site.clock.next_code(volunteer.secret)})
    assert begun.location == "/enrol"
    attacker = site.app.test_client()
    assert login(attacker, "lawyer", PASSPHRASE, "").status_code == 400
    assert login(attacker, "lawyer", PASSPHRASE,
                 site.clock.next_code(volunteer.secret)).status_code == 302


def test_the_cookie_holds_only_the_session_id(site: Staff) -> None:
    client = site.app.test_client()
    apply(client, "newbie")
    approve(site.operator, "newbie")
    login(client, "newbie")
    cookie = client.get_cookie("haven_staff")
    assert cookie is not None
    serializer = site.app.session_interface.get_signing_serializer(site.app)  # type: ignore[attr-defined]
    assert set(serializer.loads(cookie.value)) <= {"sid", "csrf_token", "_flashes"}


def test_suspended_volunteers_get_no_new_messages(site: Staff, initialised: Config) -> None:
    vetted(site, "lawyer", skills=("legal",), languages=("fa",))
    asker, public_id = asked(site)
    page = site.operator.get("/operator/volunteers").get_data(as_text=True)
    volunteer_id = page[page.index("<bdi>lawyer</bdi>"):].split("/operator/volunteers/")[1][:22]
    button(site.operator, f"/operator/volunteers/{volunteer_id}/suspend", "/operator/volunteers")
    requester.reply(asker, public_id, "after the suspension")
    conn = Database(initialised).open()
    stanzas = conn.execute(
        "SELECT count(*) FROM message_readers mr JOIN messages m ON m.id = mr.message_id"
        " WHERE mr.fingerprint IN (SELECT fingerprint FROM request_readers"
        "  WHERE volunteer_id IS NOT NULL)").fetchone()[0]
    conn.close()
    assert stanzas == 0


def test_only_the_helper_resolves_and_the_requester_can_reopen(site: Staff) -> None:
    lawyer, _ = vetted(site, "lawyer", skills=("legal",), languages=("fa",))
    other, _ = vetted(site, "other", skills=("legal",), languages=("fa",))
    asker, public_id = asked(site)
    # Nobody is helping yet: no reader can close the thread for everyone.
    assert "Mark resolved" not in lawyer.get(f"/cases/{public_id}").get_data(as_text=True)
    refused = button(lawyer, f"/cases/{public_id}/resolve", f"/cases/{public_id}",
                     confirm="resolve")
    assert refused.status_code == 302
    assert "Nobody is helping yet" in lawyer.get(f"/cases/{public_id}").get_data(as_text=True)
    button(lawyer, f"/cases/{public_id}/claim", f"/cases/{public_id}")
    button(other, f"/cases/{public_id}/resolve", f"/cases/{public_id}", confirm="resolve")
    assert "Mark resolved" not in other.get(f"/cases/{public_id}").get_data(as_text=True)
    assert "You are helping" in lawyer.get(f"/cases/{public_id}").get_data(as_text=True)
    button(lawyer, f"/cases/{public_id}/resolve", f"/cases/{public_id}", confirm="resolve")
    assert "Resolved" in asker.get(f"/requests/{public_id}").get_data(as_text=True)
    button(asker, f"/requests/{public_id}/reopen", f"/requests/{public_id}")
    assert requester.reply(asker, public_id, "still need help").status_code == 302


def test_resolving_asks_first(site: Staff) -> None:
    lawyer, _ = vetted(site, "lawyer", skills=("legal",), languages=("fa",))
    _, public_id = asked(site)
    case = f"/cases/{public_id}"
    button(lawyer, f"{case}/claim", case)
    page = lawyer.get(case).get_data(as_text=True)
    assert f'href="{case}/resolve"' in page  # a link to a question, not a one-click form
    assert f'action="{case}/resolve"' not in page
    question = lawyer.get(f"{case}/resolve").get_data(as_text=True)
    assert "Mark this request resolved?" in question
    assert 'name="confirm" value="resolve"' in question
    # A bare post (an old one-click form) only asks the question again.
    asked_again = button(lawyer, f"{case}/resolve", case)
    assert asked_again.status_code == 200
    assert "Mark this request resolved?" in asked_again.get_data(as_text=True)
    assert "You are helping" in lawyer.get(case).get_data(as_text=True)
    assert button(lawyer, f"{case}/resolve", case, confirm="resolve").status_code == 302
    assert "Resolved" in lawyer.get(case).get_data(as_text=True)


def test_flagging_asks_with_no_reason_chosen(site: Staff, initialised: Config) -> None:
    lawyer, _ = vetted(site, "lawyer", skills=("legal",), languages=("fa",))
    _, public_id = asked(site)
    case = f"/cases/{public_id}"
    assert f'action="{case}/flag"' not in lawyer.get(case).get_data(as_text=True)
    question = lawyer.get(f"{case}/flag").get_data(as_text=True)
    assert "Flag this request?" in question
    assert 'value=spam' in question
    assert "checked" not in question
    unchosen = button(lawyer, f"{case}/flag", case)
    assert unchosen.status_code == 400
    assert "Choose why you flag it." in unchosen.get_data(as_text=True)
    assert not [line for line in audit_log(initialised) if line[1].startswith("flagged")]
    assert button(lawyer, f"{case}/flag", case, reason="abuse").status_code == 302
    assert ("lawyer", "flagged (abuse)", f"request {public_id}") in audit_log(initialised)


def test_the_dashboard_puts_the_most_urgent_first_then_the_newest(site: Staff) -> None:
    lawyer, _ = vetted(site, "lawyer", skills=("legal",), languages=("fa",))
    asker = site.public.test_client()
    requester.new_account(asker)
    for title, urgency in [("OLD-NORMAL", "normal"), ("OLD-URGENT", "urgent"),
                           ("CRITICAL", "critical"), ("NEW-NORMAL", "normal"),
                           ("NEW-URGENT", "urgent")]:
        requester.submitted_id(asker, title=title, urgency=urgency)
    page = lawyer.get("/dashboard").get_data(as_text=True)
    order = re.findall(r'<a dir="auto" href="/cases/[^"]+">([A-Z-]+)</a>', page)
    assert order == ["CRITICAL", "NEW-URGENT", "OLD-URGENT", "NEW-NORMAL", "OLD-NORMAL"]
    assert page.count('<li class="urgent">') == 3
    assert page.count("<b>Life at risk</b>") == 1


def _pager(page: str) -> dict[str, str]:
    """The dashboard's pager links, by their words."""
    nav = re.search(r'<nav aria-label="Pages" class="pages">(.*?)</nav>', page, re.S)
    found = re.findall(r'<a href="([^"]+)">([A-Za-z]+)</a>', nav.group(1)) if nav else []
    return {words: html.unescape(href) for href, words in found}


def test_the_dashboard_pages_by_links_that_keep_the_filters(
        site: Staff, monkeypatch: pytest.MonkeyPatch) -> None:
    from onion_app.store import caseload

    monkeypatch.setattr(caseload, "PAGE_SIZE", 2)
    lawyer, _ = vetted(site, "lawyer", skills=("legal",), languages=("fa",))
    asker = site.public.test_client()
    requester.new_account(asker)
    for title, urgency in [("ONE", "normal"), ("TWO", "urgent"), ("THREE", "normal"),
                           ("FOUR", "critical"), ("FIVE", "normal")]:
        requester.submitted_id(asker, title=title, urgency=urgency)
    titles = re.compile(r'<a dir="auto" href="/cases/[^"]+">([A-Z]+)</a>')
    page = lawyer.get("/dashboard?skill=legal&status=open").get_data(as_text=True)
    assert "5 requests." in page
    assert page.count("<b>New</b>") == 2
    shown, pages = titles.findall(page), [titles.findall(page)]
    assert set(_pager(page)) == {"Older", "Oldest"}
    while "Older" in _pager(page):
        link = _pager(page)["Older"]
        assert "skill=legal" in link
        assert "status=open" in link
        page = lawyer.get(link).get_data(as_text=True)
        pages.append(titles.findall(page))
        shown += pages[-1]
        newer = lawyer.get(_pager(page)["Newer"]).get_data(as_text=True)
        assert titles.findall(newer) == pages[-2]
    assert shown == ["FOUR", "TWO", "FIVE", "THREE", "ONE"]
    assert set(_pager(page)) == {"Newest", "Newer"}
    oldest = lawyer.get(_pager(newer)["Oldest"]).get_data(as_text=True)
    assert titles.findall(oldest) == ["THREE", "ONE"]
    newest = lawyer.get(_pager(oldest)["Newest"]).get_data(as_text=True)
    assert titles.findall(newest) == ["FOUR", "TWO"]
    # An anchor edited by hand, or an old page=N link: the newest page.
    for odd in ("after=2.nope", "before=9.x", "page=3"):
        assert titles.findall(lawyer.get(f"/dashboard?{odd}").get_data(as_text=True)) == [
            "FOUR", "TWO"]
    monkeypatch.setattr(caseload, "COUNT_LIMIT", 3)
    assert "More than 3 requests." in lawyer.get("/dashboard").get_data(as_text=True)
    lawyer.get("/language/ru")
    assert "Последняя страница" in lawyer.get("/dashboard").get_data(as_text=True)


def test_referral_needs_a_shared_language(site: Staff) -> None:
    lawyer, _ = vetted(site, "lawyer", skills=("legal",), languages=("fa",))
    _, public_id = asked(site)
    vetted(site, "zh-only", skills=("legal",), languages=("zh",))
    assert "zh-only" not in lawyer.get(f"/cases/{public_id}").get_data(as_text=True)


@pytest.mark.parametrize("page", ["99999999999999999999999", "9223372036854775807"])
def test_huge_page_numbers(site: Staff, page: str) -> None:
    lawyer, _ = vetted(site, "lawyer")
    assert lawyer.get(f"/dashboard?page={page}").status_code == 200
    for path in ("/operator/requests", "/operator/audit"):
        assert site.operator.get(f"{path}?page={page}").status_code == 200


def test_long_handle_and_unknown_handles_stay_out_of_the_audit_log(
        site: Staff, initialised: Config) -> None:
    client = site.app.test_client()
    assert login(client, "h" * 5000, PASSPHRASE, "123456").status_code == 400
    typed = "my secret passphrase typed in the wrong box"
    for _ in range(6):
        login(client, typed, "x" * 12, "123456")
    conn = Database(initialised).open()
    log = " ".join(str(tuple(r)) for r in conn.execute("SELECT * FROM audit_log"))
    conn.close()
    assert typed not in log




def test_two_requests_from_one_codename_show_unlinkable_requester_keys(
        site: Staff, initialised: Config) -> None:
    # Issue 11: sealing every request to one account key printed that key on
    # every case page, so two volunteers comparing notes could tell both
    # requests came from one person.
    lawyer, _ = vetted(site, "lawyer", skills=("legal",), languages=("fa",))
    writer, _ = vetted(site, "writer", skills=("writing",), languages=("fa",))
    asker = site.public.test_client()
    requester.new_account(asker)
    legal = requester.submitted_id(asker, skills=["legal"])
    writing = requester.submitted_id(asker, skills=["writing"])
    assert writer.get(f"/cases/{legal}").status_code == 404  # one reader per request
    assert lawyer.get(f"/cases/{writing}").status_code == 404
    conn = Database(initialised).open()
    volunteer_keys = {encode_public_key(sealing.stored_reader_key(bytes(r[0]), bytes(r[1])))
                      for r in conn.execute("SELECT public_key, mlkem_public_key FROM volunteers")}
    (account_key,) = [encode_public_key(PublicKey(bytes(r[0])))
                      for r in conn.execute("SELECT public_key FROM requesters")]
    conn.close()
    shown = []
    for client, public_id in ((lawyer, legal), (writer, writing)):
        readers = set(client.get(f"/cases/{public_id}/readers.txt").get_data(
            as_text=True).split())
        assert len(readers) == 2, "the requester and this one volunteer"
        (requester_key,) = readers - volunteer_keys
        shown.append(requester_key)
    assert shown[0] != shown[1]
    assert account_key not in shown


def test_a_long_case_comes_in_pages_of_bounded_weight(site: Staff) -> None:
    lawyer, _ = vetted(site, "lawyer")
    client, public_id = asked(site, story=HEAVY * STORY_MAX, title=HEAVY * TITLE_MAX,
                              help=HEAVY * HELP_MAX)
    heaviest_thread(client, public_id, 12)
    pages = thread_pages(lawyer, f"/cases/{public_id}")
    assert len(pages) == 2
    assert "Messages 11 to 12 of 12" in pages[1]
    assert "reply 00 " in pages[0]
    assert "reply 11 " in pages[1]
    assert "reply 11 " not in pages[0]


def _change_passphrase(client: FlaskClient, current: str, new: str) -> Any:
    return client.post("/account/passphrase", data={
        "csrf_token": csrf(client, "/account"), "current": current, "passphrase": new,
        "confirm": new})


def _second_session(site: Staff, volunteer: Volunteer) -> FlaskClient:
    thief = site.app.test_client()
    assert sign_in(thief, site.clock, volunteer).status_code == 302
    assert thief.get("/dashboard").status_code == 200
    return thief


def test_a_passphrase_change_ends_every_other_session(site: Staff) -> None:
    lawyer, volunteer = vetted(site, "lawyer")
    thief = _second_session(site, volunteer)
    assert _change_passphrase(lawyer, PASSPHRASE, "copper meadow kettle orbit"
                              ).status_code == 302
    assert thief.get("/dashboard").status_code == 302
    assert lawyer.get("/dashboard").status_code == 200


def test_a_totp_reset_ends_every_other_session(site: Staff) -> None:
    lawyer, volunteer = vetted(site, "lawyer")
    assert volunteer.secret
    thief = _second_session(site, volunteer)
    reset = lawyer.post("/account/totp", data={
        "csrf_token": csrf(lawyer, "/account"), "current": PASSPHRASE,
        "code": site.clock.next_code(volunteer.secret)})
    assert reset.location == "/enrol"
    assert thief.get("/dashboard").status_code == 302
    assert lawyer.get("/enrol").status_code == 200


def test_passphrase_checks_in_a_session_share_the_login_throttle(site: Staff) -> None:
    lawyer, volunteer = vetted(site, "lawyer")
    assert volunteer.secret
    for _ in range(10):
        assert _change_passphrase(lawyer, "wrong guess at the passphrase",
                                  "copper meadow kettle orbit").status_code in (400, 429)
    held = _change_passphrase(lawyer, PASSPHRASE, "copper meadow kettle orbit")
    assert held.status_code == 429
    assert "Too many attempts" in held.get_data(as_text=True)
    reset = lawyer.post("/account/totp", data={
        "csrf_token": csrf(lawyer, "/account"), "current": PASSPHRASE,
        "code": site.clock.next_code(volunteer.secret)})
    assert reset.status_code == 429
    # The hold is the login's own: signing in elsewhere waits too.
    assert sign_in(site.app.test_client(), site.clock, volunteer).status_code == 429
    assert login(site.app.test_client(), "lawyer", "copper meadow kettle orbit",
                 site.clock.next_code(volunteer.secret)).status_code != 302


def test_wrong_totp_reset_attempts_are_throttled(site: Staff) -> None:
    lawyer, volunteer = vetted(site, "lawyer")
    assert volunteer.secret
    for _ in range(10):
        lawyer.post("/account/totp", data={"csrf_token": csrf(lawyer, "/account"),
                                           "current": "wrong guess at the passphrase",
                                           "code": "000000"})
    reset = lawyer.post("/account/totp", data={
        "csrf_token": csrf(lawyer, "/account"), "current": PASSPHRASE,
        "code": site.clock.next_code(volunteer.secret)})
    assert reset.status_code == 429


def test_a_deleted_volunteer_leaves_no_trace_in_any_page(site: Staff, initialised: Config,
                                                         database: Database) -> None:
    handle = "vanishing-lawyer"
    lawyer, _ = vetted(site, handle, skills=("legal",), languages=("fa",))
    requester_client, public_id = asked(site, story="STORY-MARKER-7f3a", title="TITLE-MARKER-7f3a")
    button(lawyer, f"/cases/{public_id}/claim", f"/cases/{public_id}")
    lawyer.post(f"/cases/{public_id}/reply", data={
        "csrf_token": csrf(lawyer, f"/cases/{public_id}"), "text": "VOLUNTEER-MARKER-7f3a"})
    requester.reply(requester_client, public_id, "REQUESTER-MARKER-7f3a")
    button(lawyer, f"/cases/{public_id}/flag", f"/cases/{public_id}", reason="other")
    with database.connect() as conn:
        [volunteer_id] = [r[0] for r in conn.execute(
            "SELECT id FROM volunteers WHERE handle = ?", (handle,))]
        fingerprints = [r[0] for r in conn.execute(
            "SELECT fingerprint FROM request_readers WHERE volunteer_id = ?", (volunteer_id,))]
        stanzas = [bytes(r[0]) for r in conn.execute(
            "SELECT stanza FROM request_readers WHERE volunteer_id = ?", (volunteer_id,))]
        stanzas += [bytes(r[0]) for r in conn.execute(
            "SELECT stanza FROM message_readers WHERE fingerprint = ?", (fingerprints[0],))]
    assert len(stanzas) == 3  # the request's, and one for each of the two messages
    assert handle.encode() in decrypted_pages(database)  # the dump does see it while it exists
    button(lawyer, "/account/delete", "/account/delete")
    pages = decrypted_pages(database)
    assert handle.encode() not in pages
    for stanza in stanzas:
        assert stanza not in pages
    for marker in ("STORY-MARKER-7f3a", "TITLE-MARKER-7f3a", "VOLUNTEER-MARKER-7f3a",
                   "REQUESTER-MARKER-7f3a"):
        assert marker.encode() not in pages
    # The log still says what happened, naming nobody who is gone.
    log = audit_log(initialised)
    assert ("a deleted volunteer", "claimed", f"request {public_id}") in log
    assert ("a deleted volunteer", "deleted own account", "") in log


def test_a_deleted_request_leaves_the_log_linked_to_nobody(site: Staff, initialised: Config,
                                                           database: Database) -> None:
    lawyer, _ = vetted(site, "lawyer", skills=("legal",), languages=("fa",))
    requester_client, public_id = asked(site)
    button(lawyer, f"/cases/{public_id}/claim", f"/cases/{public_id}")
    button(lawyer, f"/cases/{public_id}/flag", f"/cases/{public_id}", reason="spam")
    assert public_id.encode() in decrypted_pages(database)
    deleted = requester_client.post(f"/requests/{public_id}/delete", data={
        "csrf_token": csrf(requester_client, f"/requests/{public_id}/delete")})
    assert deleted.status_code == 302
    assert public_id.encode() not in decrypted_pages(database)
    log = audit_log(initialised)
    assert ("lawyer", "claimed", "a deleted request") in log
    assert ("lawyer", "flagged (spam)", "a deleted request") in log


def test_a_full_kdf_gate_is_a_polite_429_at_once(staff_app: Flask) -> None:
    """Every derivation slot busy: sign-in and applying are refused at once
    with Retry-After, keeping what was typed except the secrets."""
    gate = state_of(staff_app).kdf_gate
    client = staff_app.test_client()
    with gate.slot(), gate.slot():
        signed = login(client, "some-handle", "a secret passphrase here")
        applied = apply(client, "new-applicant", passphrase="another long passphrase",
                        follow_redirects=False)
    for response in (signed, applied):
        assert response.status_code == 429
        assert response.headers["Retry-After"] == "5"
        page = response.get_data(as_text=True)
        assert "Wait a minute, then try again" in page
        assert "passphrase here" not in page
        assert "another long passphrase" not in page
    assert 'value="some-handle"' in signed.get_data(as_text=True)
    assert "I am new-applicant, a lawyer in Berlin." in applied.get_data(as_text=True)
