"""Issue 13's scenario over HTTP, in a real browser, against both real apps:
a request nobody matches reaches a volunteer approved afterwards without the
requester signing in again (through a triage volunteer's sign-in), or with it,
or after the request waited N days (with an injected clock).

Screenshots (390 px wide) of the requester's status page (English and
Persian) and of the new volunteer's dashboard at each step go to
``test-artefacts/scenario-13/<test>/`` (or ``$HAVEN_ARTEFACTS``).
"""

from __future__ import annotations

import dataclasses
import datetime
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser as Chromium
from playwright.sync_api import Page, expect

from onion_app import create_app
from onion_app.config import Config
from onion_app.serving import serve
from onion_app.web.state import Runtime
from tests.browser import fresh_contexts, navigate
from tests.haven_cli import HavenCliRunner
from tests.staff_journey import StepClock, install_clock

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parent.parent
PASSPHRASE = "granite willow ferry candle"
TITLE = "Lawyer for a press case"
WIDTH = 390


class Today:
    """The date the apps see: today, moved on when a test says so."""

    def __init__(self) -> None:
        self.day = datetime.date.today()

    def __call__(self) -> datetime.date:
        return self.day


@dataclasses.dataclass
class Scene:
    """Both apps on loopback, the people in the browser, and the clocks."""

    public: str
    staff: str
    codes: StepClock
    today: Today
    new_page: object
    shots: Path
    secrets: dict[str, str] = dataclasses.field(default_factory=dict)
    count: int = 0

    def page(self) -> Page:
        return self.new_page(width=WIDTH, height=800)  # type: ignore[operator]

    def shot(self, page: Page, name: str) -> None:
        self.count += 1
        page.screenshot(path=str(self.shots / f"{self.count:02d}-{name}.png"), full_page=True)


@contextmanager
def scene(config: Config, chromium: Chromium, name: str, **changes: int) -> Iterator[Scene]:
    config = config.with_changes(public_port=0, staff_port=0, **changes)
    today = Today()
    runtime = dataclasses.replace(Runtime.for_config(config), today=today)
    made = HavenCliRunner(runtime).invoke(args=["operator", "create", "op"],
                                          input=f"{PASSPHRASE}\n{PASSPHRASE}\n")
    assert made.exit_code == 0, made.output
    apps = {role: create_app(role, config, runtime) for role in ("public", "staff")}
    codes = install_clock(apps["staff"])
    shots = Path(os.environ.get("HAVEN_ARTEFACTS", ROOT / "test-artefacts")) / "scenario-13" / name
    shots.mkdir(parents=True, exist_ok=True)
    for old in shots.glob("*.png"):
        old.unlink()
    served = serve.start(apps, "127.0.0.1", {"public": 0, "staff": 0})
    try:
        with fresh_contexts(chromium) as contexts:
            yield Scene(served.address("public").rstrip("/"), served.address("staff").rstrip("/"),
                        codes, today, contexts.page, shots)
    finally:
        served.close()


def sign_in(s: Scene, page: Page, handle: str) -> None:
    """Signs a volunteer in; the first time, sets up their authenticator."""
    page.goto(s.staff + "/login")
    page.get_by_label("Handle").fill(handle)
    page.get_by_label("Passphrase").fill(PASSPHRASE)
    if handle in s.secrets:
        page.get_by_label("Code from your authenticator app").fill(
            s.codes.next_code(s.secrets[handle]))
    navigate(page.get_by_role("button", name="Sign in"))
    if handle not in s.secrets:
        assert urlsplit(page.url).path == "/enrol"
        s.secrets[handle] = page.locator("code.secret").inner_text().strip()
        page.get_by_label("The 6-digit code your app shows now").fill(
            s.codes.next_code(s.secrets[handle]))
        navigate(page.get_by_role("button", name="Confirm and continue"))
    # An operator lands on the applications waiting for them; a volunteer on
    # their dashboard.
    assert urlsplit(page.url).path in ("/dashboard", "/operator/applications")


def sign_out(page: Page) -> None:
    navigate(page.get_by_role("button", name="Sign out"))


def volunteer(s: Scene, operator: Page, handle: str, skill: str, *, triage: bool = False) -> Page:
    """Applies, is approved by the operator, and signs in for the first time."""
    page = s.page()
    page.goto(s.staff + "/apply")
    page.get_by_label("A handle").fill(handle)
    page.get_by_label("A passphrase").fill(PASSPHRASE)
    page.get_by_label("The passphrase again").fill(PASSPHRASE)
    page.get_by_label(skill).check()
    page.get_by_label("فارسی").check()
    if triage:
        page.get_by_label("Triage: read requests that nobody else matches").check()
    page.get_by_label("A short bio").fill(f"{handle}, twenty years of practice.")
    page.get_by_label("How can an operator verify you?").fill("The Berlin bar.")
    navigate(page.get_by_role("button", name="Send my application"))
    expect(page.locator("body")).to_contain_text("Thank you")
    operator.goto(s.staff + "/operator/applications")
    navigate(operator.get_by_role("link", name=handle))
    if triage:
        expect(operator.locator("dl.meta")).to_contain_text("Offers to triage")
    navigate(operator.get_by_role("button", name="Approve"))
    sign_in(s, page, handle)
    return page


def requester_asks(s: Scene, skill: str) -> tuple[Page, str, str]:
    """A new requester asks for ``skill`` in Persian. :returns: page, codename, request path"""
    page = s.page()
    page.goto(s.public + "/start")
    codename = " ".join(page.locator("ol.codename li").all_inner_texts())
    page.get_by_label("Type your codename here").fill(codename)
    navigate(page.get_by_role("button", name="My copy is right: make my account"))
    page.get_by_label(skill).check()
    page.get_by_label("Persian").check()
    page.get_by_label("A short title").fill(TITLE)
    page.get_by_label("What is happening?").fill("A newspaper case; I need a lawyer.")
    navigate(page.get_by_role("button", name="Seal and send"))
    expect(page.locator("body")).to_contain_text("sealed and sent")
    return page, codename, urlsplit(page.url).path


def status_shots(s: Scene, requester: Page, path: str, step: str) -> str:
    """The requester's status page in English and in Persian. :returns: its status"""
    requester.goto(s.public + path)
    status = requester.locator("dl.meta dd").first.inner_text()
    s.shot(requester, f"{step}-requester-en")
    requester.goto(f"{s.public}/language/fa?next={path}")
    s.shot(requester, f"{step}-requester-fa")
    requester.goto(f"{s.public}/language/en?next={path}")
    return status


def dashboard(s: Scene, page: Page, step: str) -> str:
    page.goto(s.staff + "/dashboard")
    s.shot(page, f"{step}-new-volunteer-dashboard")
    return page.locator("main").inner_text()


def requester_signs_in_again(s: Scene, page: Page, codename: str) -> None:
    sign_out(page)
    page.goto(s.public + "/login")
    page.get_by_label("Your codename").fill(codename)
    navigate(page.get_by_role("button", name="Sign in"))
    assert urlsplit(page.url).path == "/requests"


ONE = "1 volunteer can read it; nobody has offered to help yet"
A_FEW = "A few volunteers can read it; nobody has offered to help yet"


def test_a_triage_volunteers_sign_in_reaches_a_volunteer_approved_later(
        initialised: Config, chromium_process: Chromium) -> None:
    with scene(initialised, chromium_process, "triage-sign-in") as s:
        operator = s.page()
        sign_in(s, operator, "op")
        triage = volunteer(s, operator, "triage-fa", "Research and documentation", triage=True)
        requester, _, path = requester_asks(s, "Press and media")  # a skill nobody has
        assert status_shots(s, requester, path, "1-sent") == ONE  # the triage volunteer
        triage.goto(s.staff + "/dashboard")
        expect(triage.locator("main")).to_contain_text("for triage")
        newcomer = volunteer(s, operator, "press-lawyer", "Press and media")
        assert TITLE not in dashboard(s, newcomer, "2-approved")
        assert status_shots(s, requester, path, "2-approved") == ONE
        sign_out(triage)
        sign_in(s, triage, "triage-fa")
        # The requester did not sign in again: their tab only reloads the page.
        assert TITLE in dashboard(s, newcomer, "3-after-triage-sign-in")
        assert status_shots(s, requester, path, "3-after-triage-sign-in") == A_FEW


def test_the_requesters_own_sign_in_reaches_a_volunteer_approved_later(
        initialised: Config, chromium_process: Chromium) -> None:
    with scene(initialised, chromium_process, "requester-sign-in") as s:
        operator = s.page()
        sign_in(s, operator, "op")
        requester, codename, path = requester_asks(s, "Press and media")
        assert status_shots(s, requester, path, "1-sent") == "Nobody can read it yet"
        expect(requester.locator("main")).to_contain_text("sign in again in a day or two")
        newcomer = volunteer(s, operator, "press-lawyer", "Press and media")
        assert TITLE not in dashboard(s, newcomer, "2-approved")
        status_shots(s, requester, path, "2-approved")
        requester_signs_in_again(s, requester, codename)
        assert TITLE in dashboard(s, newcomer, "3-after-requester-sign-in")
        assert status_shots(s, requester, path, "3-after-requester-sign-in") == ONE


def test_after_n_days_a_request_is_widened_past_the_limit(
        initialised: Config, chromium_process: Chromium) -> None:
    with scene(initialised, chromium_process, "widened-after-days",
               match_limit=1, widen_after_days=3) as s:
        operator = s.page()
        sign_in(s, operator, "op")
        first = volunteer(s, operator, "first-lawyer", "Press and media")
        requester, codename, path = requester_asks(s, "Press and media")
        status_shots(s, requester, path, "1-sent")
        newcomer = volunteer(s, operator, "press-lawyer", "Press and media")
        requester_signs_in_again(s, requester, codename)
        sign_out(first)
        sign_in(s, first, "first-lawyer")
        assert TITLE not in dashboard(s, newcomer, "2-limit-reached")  # one reader is the limit
        assert status_shots(s, requester, path, "2-limit-reached") == ONE
        s.today.day += datetime.timedelta(days=3)
        sign_out(first)
        sign_in(s, first, "first-lawyer")  # a matched volunteer's sign-in, three days on
        assert TITLE in dashboard(s, newcomer, "3-after-three-days")
        assert status_shots(s, requester, path, "3-after-three-days") == A_FEW
