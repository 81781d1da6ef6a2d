"""The volunteer's and operator's pages on a phone, in chromium with JavaScript off.

At 390x844 (a common phone) in English and Arabic (right to left; Persian is
not a staff language): the dashboard as a list, a case, and the confirmation
that resolving needs. Screenshots go to ``test-artefacts/staff`` (or
``$HAVEN_ARTEFACTS/staff``) for a person to look at.
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlsplit

import pyotp
import pytest
from flask import Flask
from playwright.sync_api import Browser as Chromium
from playwright.sync_api import Page, expect

from onion_app import create_app
from onion_app.config import Config
from onion_app.operator.views import APPLICATIONS_PAGE_SIZE, VOLUNTEERS_PAGE_SIZE
from onion_app.store import Database
from tests import journey as requester
from tests.browser import fresh_contexts, haven_server, navigate
from tests.haven_cli import cli_runner
from tests.pages import crowd

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parent.parent
OPERATOR_PASSPHRASE = "granite willow ferry candle"
VOLUNTEER_PASSPHRASE = "orchard cobalt pillow summit"
PHONE = {"width": 390, "height": 844}


def _shots() -> Path:
    folder = Path(os.environ.get("HAVEN_ARTEFACTS", ROOT / "test-artefacts")) / "staff"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _sign_in_first_time(page: Page, staff: str, handle: str, passphrase: str) -> str:
    """Signs in and sets up TOTP. :returns: the path landed on"""
    page.goto(staff + "/login")
    page.locator("input[name=handle]").fill(handle)
    page.locator("input[name=passphrase]").fill(passphrase)
    navigate(page.locator("main form button[type=submit]"))
    assert urlsplit(page.url).path == "/enrol"
    secret = page.locator("code.secret").inner_text().strip()
    page.locator("input[name=code]").fill(pyotp.TOTP(secret).now())
    navigate(page.locator("main form button[type=submit]"))
    return urlsplit(page.url).path


def _fill_in_the_application(volunteer: Page, staff: str) -> None:
    """A Berlin lawyer's application, every required field filled, not yet sent."""
    volunteer.goto(staff + "/apply")
    volunteer.locator("input[name=handle]").fill("berlin-lawyer")
    volunteer.locator("input[name=passphrase]").fill(VOLUNTEER_PASSPHRASE)
    volunteer.locator("input[name=confirm]").fill(VOLUNTEER_PASSPHRASE)
    volunteer.locator("input[value=legal]").check()
    volunteer.locator("input[value=fa]").check()
    volunteer.locator("textarea[name=bio]").fill("Asylum lawyer in Berlin.")
    volunteer.locator("textarea[name=references]").fill("Berlin bar, member 123.")


def _ask(public_app: Flask, title: str, urgency: str, n: int) -> str:
    client = public_app.test_client()
    requester.new_account(client)
    public_id = requester.submitted_id(client, title=title, urgency=urgency, skills=["legal"],
                                       languages=["fa"], story=f"داستان {n}. Story {n}.")
    return public_id


def test_a_volunteer_and_an_operator_on_a_phone(initialised: Config,
                                                chromium_process: Chromium) -> None:
    shots = _shots()
    made = cli_runner(create_app("staff", initialised)).invoke(
        args=["operator", "create", "op"],
        input=f"{OPERATOR_PASSPHRASE}\n{OPERATOR_PASSPHRASE}\n")
    assert made.exit_code == 0, made.output
    public_app = create_app("public", initialised)
    with haven_server(initialised) as urls, fresh_contexts(chromium_process) as contexts:
        staff = urls["staff"]
        operator = contexts.page(**PHONE)
        # A new operator lands where vetting happens, not on an empty list.
        assert _sign_in_first_time(operator, staff, "op", OPERATOR_PASSPHRASE) \
            == "/operator/applications"
        operator.screenshot(path=str(shots / "en-operator-applications-empty.png"),
                            full_page=True)

        volunteer = contexts.page(**PHONE)
        _fill_in_the_application(volunteer, staff)
        volunteer.screenshot(path=str(shots / "en-apply.png"), full_page=True)
        navigate(volunteer.locator("main form button[type=submit]"))
        assert urlsplit(volunteer.url).path == "/apply/sent"

        operator.goto(staff + "/operator/applications")
        navigate(operator.get_by_role("link", name="berlin-lawyer"))
        navigate(operator.locator("button[value=approve]"))
        assert _sign_in_first_time(volunteer, staff, "berlin-lawyer",
                                   VOLUNTEER_PASSPHRASE) == "/dashboard"

        normal = _ask(public_app, "Advice on a visa form", "normal", 1)
        _ask(public_app, "دادگاه تجدیدنظر من هفته‌ی آینده است و وکیلی ندارم که", "critical", 2)
        urgent = _ask(public_app, "Passport taken at the border", "urgent", 3)
        volunteer.goto(staff + "/dashboard")
        titles = volunteer.locator("ol.cases li > a").all_inner_texts()
        assert titles[1:] == ["Passport taken at the border", "Advice on a visa form"]
        assert titles[0].startswith("دادگاه")
        expect(volunteer.locator("ol.cases")).to_contain_text("New")
        volunteer.screenshot(path=str(shots / "en-dashboard.png"), full_page=True)

        navigate(volunteer.get_by_role("link", name="Passport taken at the border"))
        case = volunteer.url
        assert urlsplit(case).path == f"/cases/{urgent}"
        navigate(volunteer.get_by_role("button", name="I'm helping"))
        volunteer.locator("textarea[name=text]").fill("I can help. Which country?")
        navigate(volunteer.locator("textarea[name=text]").locator("xpath=ancestor::form").locator(
            "button[type=submit]"))
        volunteer.screenshot(path=str(shots / "en-case.png"), full_page=True)

        # Resolving asks first, on a page of its own; "No" leaves it open.
        navigate(volunteer.get_by_role("link", name="Mark resolved…"))
        assert urlsplit(volunteer.url).path == f"/cases/{urgent}/resolve"
        expect(volunteer.locator("h1")).to_have_text("Mark this request resolved?")
        volunteer.screenshot(path=str(shots / "en-confirm-resolve.png"), full_page=True)
        navigate(volunteer.get_by_role("link", name="No, back to the request"))
        expect(volunteer.locator("dl.meta")).to_contain_text("You are helping")
        navigate(volunteer.get_by_role("link", name="Mark resolved…"))
        navigate(volunteer.get_by_role("button", name="Yes, mark it resolved"))
        assert volunteer.url == case
        expect(volunteer.locator("dl.meta")).to_contain_text("Resolved")

        # Flagging asks too, with no reason chosen for the volunteer.
        volunteer.goto(f"{staff}/cases/{normal}")
        navigate(volunteer.get_by_role("link", name="Flag this request for the operators…"))
        assert volunteer.locator("input[name=reason]:checked").count() == 0
        # The browser itself asks for a reason (the server refuses none too).
        assert volunteer.locator("input[name=reason][required]").count() == 3
        volunteer.get_by_label("Spam").check()
        navigate(volunteer.get_by_role("button", name="Flag it"))
        assert urlsplit(volunteer.url).path == "/dashboard"

        volunteer.goto(staff + "/language/ar?next=/dashboard")
        assert volunteer.locator("html").get_attribute("dir") == "rtl"
        volunteer.screenshot(path=str(shots / "ar-dashboard.png"), full_page=True)
        volunteer.goto(case)
        volunteer.screenshot(path=str(shots / "ar-case.png"), full_page=True)
        volunteer.goto(f"{staff}/cases/{normal}")
        volunteer.screenshot(path=str(shots / "ar-case-open.png"), full_page=True)

        for name in ("", "requests"):
            operator.goto(f"{staff}/operator/{name}")
            operator.screenshot(path=str(shots / f"en-operator-{name or 'counts'}.png"),
                                full_page=True)
        operator.goto(staff + "/language/ar?next=/operator/")
        operator.screenshot(path=str(shots / "ar-operator-counts.png"), full_page=True)
        # Nothing on these pages is wider than the phone.
        for page in (volunteer, operator):
            assert page.evaluate("() => document.documentElement.scrollWidth") <= PHONE["width"]


def test_the_operators_paged_lists_on_a_phone(initialised: Config,
                                              chromium_process: Chromium) -> None:
    """A Haven with more volunteers and applicants than a page holds: the
    lists fit the phone, in English and Arabic, and "Next page" leads on."""
    shots = _shots()
    made = cli_runner(create_app("staff", initialised)).invoke(
        args=["operator", "create", "op"],
        input=f"{OPERATOR_PASSPHRASE}\n{OPERATOR_PASSPHRASE}\n")
    assert made.exit_code == 0, made.output
    conn = Database(initialised).open()
    try:
        crowd(conn, VOLUNTEERS_PAGE_SIZE + 2, "vetted", heaviest=False)
        crowd(conn, APPLICATIONS_PAGE_SIZE + 2, "applied", heaviest=False)
    finally:
        conn.close()
    with haven_server(initialised) as urls, fresh_contexts(chromium_process) as contexts:
        staff = urls["staff"]
        operator = contexts.page(**PHONE)
        _sign_in_first_time(operator, staff, "op", OPERATOR_PASSPHRASE)
        for lang in ("en", "ar"):
            for name in ("volunteers", "applications"):
                operator.goto(f"{staff}/language/{lang}?next=/operator/{name}")
                assert operator.evaluate(
                    "() => document.documentElement.scrollWidth") <= PHONE["width"], name
                operator.screenshot(path=str(shots / f"{lang}-operator-{name}.png"),
                                    full_page=True)
                if lang == "en":
                    navigate(operator.get_by_role("link", name="Next page"))
                    assert urlsplit(operator.url).query == "page=2"
                    expect(operator.locator("nav.pages")).to_contain_text(" of ")
        # A row's button sends the list's one form to its own address
        # (form="acts", formaction): the browser, not a test client, sends it.
        operator.goto(f"{staff}/language/en?next=/operator/volunteers?page=2")
        row = operator.locator("tbody tr").filter(
            has=operator.get_by_role("button", name="Suspend")).first
        suspend = row.get_by_role("button", name="Suspend")
        handle = row.locator("bdi").inner_text()
        # Its name, for a screen reader, is the label and the row's handle.
        expect(suspend).to_have_accessible_name(f"Suspend {handle}")
        navigate(suspend)
        expect(operator.locator(".notice-ok")).to_contain_text(f"{handle} is suspended.")
        assert urlsplit(operator.url).query == "page=2"
        row = operator.locator("tr", has=operator.locator("bdi", has_text=handle)).first
        expect(row).to_contain_text("Suspended")


def _sealed_to_everyone_matching(initialised: Config, count: int) -> None:
    """``count`` requests for (legal, fa), sealed and stored as a submission
    stores them, from one requester, oldest first."""
    import nacl.utils
    from nacl.public import PrivateKey

    from crypto.requester import RequesterKeys
    from onion_app.domain import sealing
    from onion_app.domain.matching import Policy
    from onion_app.store import requests as rows

    conn = Database(initialised).open()
    try:
        keys = RequesterKeys(lookup_id=nacl.utils.random(32), private_key=PrivateKey.generate(),
                             master_secret=nacl.utils.random(32))
        requester_id = rows.create_requester(conn, keys.lookup_id, bytes(keys.public_key))
        for number in range(count):
            sealing.submit_request(conn, requester_id, keys, sealing.NewRequest(
                sealing.RequestText(f"Request number {number:02d}", "A story.", ""),
                frozenset({"legal"}), frozenset({"fa"}), "unsaid",
                "urgent" if number == 3 else "normal"), Policy.of(initialised))
        conn.commit()
    finally:
        conn.close()


def _close_every_other(initialised: Config) -> None:
    """Closes the even-numbered requests, as their requester would."""
    from onion_app.store import requests as rows

    conn = Database(initialised).open()
    try:
        made = [int(r[0]) for r in conn.execute("SELECT id FROM requests ORDER BY id")]
        for request_id in made[::2]:
            rows.set_status(conn, request_id, "closed")
        conn.commit()
    finally:
        conn.close()


def test_the_dashboards_pages_on_a_phone(initialised: Config,
                                         chromium_process: Chromium) -> None:
    """More requests than a page holds: Older, Oldest, Newer and Newest lead
    where they say, with a filter kept, in English and Arabic, on a phone."""
    shots = _shots()
    made = cli_runner(create_app("staff", initialised)).invoke(
        args=["operator", "create", "op"],
        input=f"{OPERATOR_PASSPHRASE}\n{OPERATOR_PASSPHRASE}\n")
    assert made.exit_code == 0, made.output
    with haven_server(initialised) as urls, fresh_contexts(chromium_process) as contexts:
        staff = urls["staff"]
        volunteer = contexts.page(**PHONE)
        _fill_in_the_application(volunteer, staff)
        navigate(volunteer.locator("main form button[type=submit]"))
        assert urlsplit(volunteer.url).path == "/apply/sent"
        operator = contexts.page(**PHONE)
        _sign_in_first_time(operator, staff, "op", OPERATOR_PASSPHRASE)
        operator.goto(staff + "/operator/applications")
        navigate(operator.get_by_role("link", name="berlin-lawyer"))
        navigate(operator.locator("button[value=approve]"))
        _sealed_to_everyone_matching(initialised, 45)
        assert _sign_in_first_time(volunteer, staff, "berlin-lawyer",
                                   VOLUNTEER_PASSPHRASE) == "/dashboard"

        def titles() -> list[str]:
            return volunteer.locator("ol.cases li > a").all_inner_texts()

        newest = titles()
        # The urgent one first, then newest: 44, 43, ... (20 to a page).
        assert newest[:3] == ["Request number 03", "Request number 44", "Request number 43"]
        assert len(newest) == 20
        pager = volunteer.get_by_role("navigation", name="Pages")
        expect(pager).not_to_contain_text("Newer")
        navigate(pager.get_by_role("link", name="Older"))
        older = titles()
        assert older == [f"Request number {n:02d}" for n in range(25, 5, -1)]
        volunteer.screenshot(path=str(shots / "en-dashboard-older.png"), full_page=True)
        navigate(pager.get_by_role("link", name="Oldest"))
        assert titles()[-1] == "Request number 00"
        assert len(titles()) == 20
        expect(pager).not_to_contain_text("Older")
        navigate(pager.get_by_role("link", name="Newer"))
        assert titles()[-1] == "Request number 21"  # the page ending just before the oldest
        navigate(pager.get_by_role("link", name="Newest"))
        assert titles() == newest
        # A filter is kept by every link of the pager.
        volunteer.locator("select[name=skill]").select_option("legal")
        navigate(volunteer.get_by_role("button", name="Show"))
        navigate(pager.get_by_role("link", name="Older"))
        assert "skill=legal" in urlsplit(volunteer.url).query
        assert titles() == older
        volunteer.goto(f"{staff}/language/ar?next=/dashboard")
        navigate(volunteer.get_by_role("navigation").last.locator("a").nth(-2))  # Older, in Arabic
        assert titles() == older
        assert volunteer.evaluate(
            "() => document.documentElement.scrollWidth") <= PHONE["width"]
        volunteer.screenshot(path=str(shots / "ar-dashboard-older.png"), full_page=True)
        # The requests that ended, on an index of their own (migration 0018):
        # the even-numbered ones closed, the filter pages through them alone.
        _close_every_other(initialised)
        volunteer.goto(f"{staff}/language/en?next=/dashboard")
        volunteer.locator("select[name=status]").select_option("closed")
        navigate(volunteer.get_by_role("button", name="Show"))
        closed = [f"Request number {n:02d}" for n in range(44, -1, -2)]
        assert titles() == closed[:20]
        navigate(pager.get_by_role("link", name="Older"))
        assert "status=closed" in urlsplit(volunteer.url).query
        assert titles() == closed[20:]
        volunteer.goto(f"{staff}/language/ar?next=/dashboard?status=closed")  # no Persian for staff
        assert volunteer.locator("html").get_attribute("lang") == "ar"
        assert titles() == closed[:20]
        assert volunteer.evaluate(
            "() => document.documentElement.scrollWidth") <= PHONE["width"]
        volunteer.screenshot(path=str(shots / "ar-dashboard-closed.png"), full_page=True)
