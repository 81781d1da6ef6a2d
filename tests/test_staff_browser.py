"""Both journeys across both apps in a real browser with JavaScript disabled:
apply, approval, TOTP enrolment, a request, a claim, a reply and an answer."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import pyotp
import pytest
from playwright.sync_api import Browser as Chromium
from playwright.sync_api import Page, expect

from onion_app import create_app
from onion_app.config import Config
from tests.browser import chromium, haven_server, navigate
from tests.haven_cli import cli_runner

pytestmark = pytest.mark.browser

OPERATOR_PASSPHRASE = "granite willow ferry candle"
VOLUNTEER_PASSPHRASE = "orchard cobalt pillow summit"


def _sign_in_first_time(page: Page, staff: str, handle: str, passphrase: str,
                        lands: str = "/dashboard") -> None:
    page.goto(staff + "/login")
    page.get_by_label("Handle").fill(handle)
    page.get_by_label("Passphrase").fill(passphrase)
    navigate(page.get_by_role("button", name="Sign in"))
    assert urlsplit(page.url).path == "/enrol"
    secret = page.locator("code.secret").inner_text().strip()
    # The click returns once /enrol starts loading, not once its QR image has:
    # wait for the page's load event (it waits for images), then a broken or
    # refused image still shows as a natural width of 0.
    page.wait_for_load_state("load")
    assert page.locator("img[src='/enrol/qr.png']").evaluate("img => img.naturalWidth") > 0
    page.get_by_label("The 6-digit code your app shows now").fill(pyotp.TOTP(secret).now())
    navigate(page.get_by_role("button", name="Confirm and continue"))
    assert urlsplit(page.url).path == lands


def test_volunteer_and_requester_meet(initialised: Config, tmp_path: Path,
                                      chromium_process: Chromium) -> None:
    made = cli_runner(create_app("staff", initialised)).invoke(
        args=["operator", "create", "op"],
        input=f"{OPERATOR_PASSPHRASE}\n{OPERATOR_PASSPHRASE}\n")
    assert made.exit_code == 0, made.output
    with haven_server(initialised) as urls, \
            chromium(chromium_process, tmp_path / "screenshots") as browser:
        staff, public = urls["staff"], urls["public"]
        volunteer = browser.page
        volunteer.goto(staff + "/")
        navigate(volunteer.get_by_role("link", name="Apply to volunteer"))
        volunteer.get_by_label("A handle").fill("berlin-lawyer")
        volunteer.get_by_label("A passphrase").fill(VOLUNTEER_PASSPHRASE)
        volunteer.get_by_label("The passphrase again").fill(VOLUNTEER_PASSPHRASE)
        volunteer.get_by_label("Legal help and asylum").check()
        volunteer.get_by_label("فارسی").check()
        volunteer.get_by_label("A short bio").fill("Asylum lawyer in Berlin.")
        volunteer.get_by_label("How can an operator verify you?").fill("Berlin bar, member 123.")
        browser.shot("apply", volunteer)
        navigate(volunteer.get_by_role("button", name="Send my application"))
        expect(volunteer.locator("body")).to_contain_text("Thank you")

        operator = browser.new_person()
        _sign_in_first_time(operator, staff, "op", OPERATOR_PASSPHRASE,
                            lands="/operator/applications")
        navigate(operator.get_by_role("link", name="berlin-lawyer"))
        expect(operator.locator("body")).to_contain_text("Asylum lawyer in Berlin.")
        browser.shot("vetting", operator)
        navigate(operator.get_by_role("button", name="Approve"))

        _sign_in_first_time(volunteer, staff, "berlin-lawyer", VOLUNTEER_PASSPHRASE)
        asker = browser.new_person()
        asker.goto(public + "/start")
        codename = " ".join(asker.locator("ol.codename li").all_inner_texts())
        asker.get_by_label("Type your codename here").fill(codename)
        navigate(asker.get_by_role("button", name="My copy is right: make my account"))
        asker.get_by_label("Legal help and asylum").check()
        asker.get_by_label("Persian").check()
        asker.get_by_label("A short title").fill("Asylum appeal deadline")
        asker.get_by_label("What is happening?").fill("My appeal is due in a week.")
        navigate(asker.get_by_role("button", name="Seal and send"))

        navigate(volunteer.get_by_role("link", name="Requests"))
        browser.shot("dashboard", volunteer)
        navigate(volunteer.get_by_role("link", name="Asylum appeal deadline"))
        expect(volunteer.locator("body")).to_contain_text("My appeal is due in a week.")
        navigate(volunteer.get_by_role("button", name="I'm helping"))
        volunteer.get_by_label("Your reply").fill("I can help. What country decided?")
        navigate(volunteer.get_by_role("button", name="Seal and send"))
        browser.shot("case", volunteer)

        asker.reload()
        expect(asker.locator("body")).to_contain_text("I can help. What country decided?")
        assert "Someone is helping: berlin-lawyer" in asker.locator("dl.meta").inner_text()
        asker.get_by_label("Your reply").fill("Germany, last month.")
        navigate(asker.get_by_role("button", name="Seal and send"))
        browser.shot("thread-requester", asker)
        volunteer.reload()
        expect(volunteer.locator("body")).to_contain_text("Germany, last month.")
        browser.shot("thread-volunteer", volunteer)

        hosts = {urlsplit(staff).netloc, urlsplit(public).netloc}
        assert browser.foreign(hosts) == []
    assert len(list((tmp_path / "screenshots").glob("*.png"))) == 6
