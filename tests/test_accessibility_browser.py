"""An accessibility audit of Haven's pages in a real browser, in English,
Arabic and Persian (and the staff side in English and Arabic).

Each page is reached the way a person reaches it (language chosen with the
row of links, forms filled and sent), then audited with axe-core, from the
npm package ``make test`` installs, for every WCAG 2.1 A and AA rule. Pages
are also checked for reflow at 320 and 640 CSS pixels wide (640 is a 1280
pixel window at 200% zoom, 320 the same at 400%). Screenshots of the landing
page, the request form and a request thread in Arabic and Persian are kept in
``test-artefacts/screenshots`` (or ``$HAVEN_ARTEFACTS``).

Haven's pages carry no script and Tor Browser at Safest runs none, but axe is
a script: with JavaScript disabled Playwright can evaluate it yet ``axe.run``
never settles (it waits on timers the disabled page never fires), and an
injected ``<script>`` tag is refused by Haven's CSP. So the audit walks the
pages in its own browser context with JavaScript enabled, evaluating axe over
the DevTools protocol (which CSP does not govern) into the same
server-rendered page; the screenshots come from a context with JavaScript
disabled, as a requester sees the page.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

import pyotp
import pytest
from playwright.sync_api import Browser as Chromium
from playwright.sync_api import Page, expect

from onion_app import create_app
from onion_app.config import Config
from tests.browser import Contexts, fresh_contexts, haven_server, navigate
from tests.haven_cli import cli_runner

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parent.parent
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
WCAG21_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
WIDTHS = (320, 640)
SHOTS = {"landing", "new-request", "thread"}
NAMES = {"en": "English", "ar": "العربية", "fa": "فارسی"}
OPERATOR_PASSPHRASE = "granite willow ferry candle"
VOLUNTEER_PASSPHRASE = "orchard cobalt pillow summit"

OnPage = Callable[[str], None]


def _artefacts() -> Path:
    folder = Path(os.environ.get("HAVEN_ARTEFACTS", ROOT / "test-artefacts")) / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@contextmanager
def _contexts(chromium: Chromium) -> Iterator[Contexts]:
    """This test's own contexts in the session's chromium, once axe-core is there."""
    if not AXE.exists():
        raise RuntimeError(f"{AXE} is missing: `make test` installs axe-core with npm")
    with fresh_contexts(chromium) as contexts:
        yield contexts


class Auditor:
    """Runs axe on the page as it stands, and checks it reflows; collects findings."""

    def __init__(self, page: Page, lang: str) -> None:
        self.page = page
        self.lang = lang
        self.findings: list[str] = []
        self.audited: list[str] = []

    def __call__(self, name: str) -> None:
        page = self.page
        self.audited.append(name)
        page.wait_for_load_state("load")  # a click returns before the next page has loaded
        if page.evaluate("typeof window.axe") != "object":
            page.evaluate(AXE.read_text(encoding="utf-8"))
        violations = page.evaluate(
            """async tags => {
                const result = await axe.run(document, {runOnly: {type: 'tag', values: tags},
                                                        resultTypes: ['violations']});
                return result.violations.map(v => ({id: v.id, impact: v.impact,
                    help: v.help, nodes: v.nodes.map(n => n.target.join(' ')).slice(0, 5)}));
            }""", WCAG21_AA)
        for v in violations:
            self.findings.append(f"[{self.lang}] {name}: {v['id']} ({v['impact']}): "
                                 f"{v['help']} at {v['nodes']}")
        size = page.viewport_size or {"width": 900, "height": 900}
        for width in WIDTHS:
            page.set_viewport_size({"width": width, "height": 800})
            overflow = page.evaluate(
                "() => document.documentElement.scrollWidth - document.documentElement.clientWidth")
            if overflow > 0:
                wide = page.evaluate("""w => [...document.querySelectorAll('body *')]
                    .filter(e => e.getBoundingClientRect().right > w + 1
                                 || e.getBoundingClientRect().left < -1)
                    .slice(0, 3).map(e => e.tagName + '.' + e.className)""", width)
                self.findings.append(f"[{self.lang}] {name}: {overflow}px wider than a "
                                     f"{width}px screen ({', '.join(wide)})")
        page.set_viewport_size(size)


def _choose_language(page: Page, lang: str) -> None:
    navigate(page.get_by_role("navigation", name=_language_label(page)).get_by_role(
        "link", name=NAMES[lang], exact=True))
    assert page.locator("html").get_attribute("lang") == lang


def _language_label(page: Page) -> str:
    return page.locator("nav.languages").get_attribute("aria-label") or ""


def requester_journey(page: Page, base: str, lang: str, on_page: OnPage) -> None:
    """Landing, codename, request form (empty, then refused, then sent), thread
    with a reply, the list, the delete confirmations, sign-in and an error page."""
    page.goto(base + "/")
    _choose_language(page, lang)
    on_page("landing")
    navigate(page.locator("p.ways a.button").first)
    codename = " ".join(page.locator("ol.codename li").all_inner_texts())
    on_page("codename")
    page.locator("[name=codename]").fill("wrong words")
    navigate(page.locator("main form button[type=submit]"))
    on_page("codename-refused")
    page.locator("[name=codename]").fill(codename)
    navigate(page.locator("main form button[type=submit]"))
    assert urlsplit(page.url).path == "/requests/new"
    on_page("new-request")
    navigate(page.locator("main form button[type=submit]"))  # nothing filled in
    on_page("new-request-refused")
    page.locator("input[value=legal]").check()
    page.locator("input[value=fa]").check()
    page.locator("input[value=urgent]").check()
    page.locator("input[name=title]").fill("گذرنامه‌ام را گرفتند")
    page.locator("textarea[name=story]").fill(
        "Border guards took my passport. مأموران مرز گذرنامه‌ام را گرفتند.")
    navigate(page.locator("main form button[type=submit]"))
    assert urlsplit(page.url).path.startswith("/requests/")
    thread = page.url
    page.locator("textarea[name=text]").fill("A follow-up, with a Latin word: asylum.")
    navigate(page.locator("textarea[name=text]").locator("xpath=ancestor::form").locator(
        "button[type=submit]"))
    on_page("thread")
    page.goto(base + "/requests")
    on_page("my-requests")
    page.goto(thread + "/delete")
    on_page("delete-request")
    page.goto(base + "/account/delete")
    on_page("delete-account")
    navigate(page.locator("nav.site button"))  # sign out
    page.goto(base + "/login")
    page.locator("[name=codename]").fill("seven words that open nothing at all")
    navigate(page.locator("main form button[type=submit]"))
    on_page("login-refused")
    page.goto(base + "/no/such/page")
    on_page("not-found")


def _sign_in_first_time(page: Page, staff: str, handle: str, passphrase: str,
                        on_page: OnPage | None = None) -> None:
    page.goto(staff + "/login")
    page.locator("input[name=handle]").fill(handle)
    page.locator("input[name=passphrase]").fill(passphrase)
    navigate(page.locator("main form button[type=submit]"))
    assert urlsplit(page.url).path == "/enrol"
    if on_page:
        on_page("enrol")
    secret = page.locator("code.secret").inner_text().strip()
    page.locator("input[name=code]").fill(pyotp.TOTP(secret).now())
    navigate(page.locator("main form button[type=submit]"))
    # Operators land on the applications waiting for them.
    assert urlsplit(page.url).path in ("/dashboard", "/operator/applications")


def staff_journey(page: Page, staff: str, public: str, lang: str, handle: str,
                  on_page: OnPage) -> None:
    """Apply (refused, then sent), the operator's pages, the volunteer's
    dashboard, a case, the account page."""
    page.goto(staff + "/")
    _choose_language(page, lang)
    on_page("staff-landing")
    page.goto(staff + "/apply")
    on_page("apply")
    # Refused by the server, not the browser (which holds back a form with
    # required fields empty): the two passphrases differ.
    page.locator("input[name=handle]").fill(handle)
    page.locator("input[name=passphrase]").fill(VOLUNTEER_PASSPHRASE)
    page.locator("input[name=confirm]").fill(VOLUNTEER_PASSPHRASE + " typo")
    page.locator("input[value=legal]").check()
    page.locator("input[value=fa]").check()
    page.locator("textarea[name=bio]").fill("وکیل پناهندگی در برلین. Asylum lawyer.")
    page.locator("textarea[name=references]").fill("Berlin bar, member 123.")
    navigate(page.locator("main form button[type=submit]"))
    expect(page.locator("#confirm-error")).to_be_visible()
    expect(page.locator("textarea[name=bio]")).to_have_value(
        "وکیل پناهندگی در برلین. Asylum lawyer.")
    on_page("apply-refused")
    page.locator("input[name=passphrase]").fill(VOLUNTEER_PASSPHRASE)
    page.locator("input[name=confirm]").fill(VOLUNTEER_PASSPHRASE)
    navigate(page.locator("main form button[type=submit]"))
    on_page("applied")

    # The operator signs in in the same browser (so in the same language) and
    # signs out again before the volunteer's first sign-in.
    _sign_in_first_time(page, staff, "op", OPERATOR_PASSPHRASE)
    page.goto(staff + "/operator/applications")
    on_page("operator-applications")
    navigate(page.get_by_role("link", name=handle))
    on_page("operator-application")
    navigate(page.locator("button[value=approve]"))
    for name in ("", "volunteers", "requests", "audit"):
        page.goto(f"{staff}/operator/{name}")
        on_page(f"operator-{name or 'counts'}")
    navigate(page.locator("nav.site button"))

    _sign_in_first_time(page, staff, handle, VOLUNTEER_PASSPHRASE, on_page)
    asker = page.context.browser.new_context(java_script_enabled=False).new_page()  # type: ignore[union-attr]
    asker.goto(public + "/start")
    codename = " ".join(asker.locator("ol.codename li").all_inner_texts())
    asker.locator("[name=codename]").fill(codename)
    navigate(asker.locator("main form button[type=submit]"))
    asker.locator("input[value=legal]").check()
    asker.locator("input[value=fa]").check()
    asker.locator("input[name=title]").fill(f"Appeal deadline ({handle})")
    asker.locator("textarea[name=story]").fill("My appeal is due in a week.")
    navigate(asker.locator("main form button[type=submit]"))
    asker.context.close()
    page.goto(staff + "/dashboard")
    on_page("dashboard")
    navigate(page.get_by_role("link", name=f"Appeal deadline ({handle})"))
    on_page("case")
    case = page.url
    page.goto(case + "/offline")
    on_page("case-offline")
    page.goto(case + "/flag")
    on_page("confirm-flag")
    page.goto(case)
    navigate(page.locator("form[action$='/claim'] button"))
    page.goto(case + "/resolve")
    on_page("confirm-resolve")
    page.goto(staff + "/account")
    on_page("account")


@pytest.mark.parametrize("lang", ["en", "ar", "fa"])
def test_requester_pages_pass_wcag21_aa(initialised: Config, lang: str,
                                        chromium_process: Chromium) -> None:
    with haven_server(initialised) as urls, _contexts(chromium_process) as contexts:
        auditor = Auditor(contexts.page(javascript=True), lang)
        requester_journey(auditor.page, urls["public"], lang, auditor)
        assert len(auditor.audited) == 11
        assert auditor.findings == [], "\n".join(auditor.findings)


@pytest.mark.parametrize("lang", ["en", "ar"])
def test_staff_pages_pass_wcag21_aa(initialised: Config, lang: str,
                                    chromium_process: Chromium) -> None:
    made = cli_runner(create_app("staff", initialised)).invoke(
        args=["operator", "create", "op"],
        input=f"{OPERATOR_PASSPHRASE}\n{OPERATOR_PASSPHRASE}\n")
    assert made.exit_code == 0, made.output
    with haven_server(initialised) as urls, _contexts(chromium_process) as contexts:
        auditor = Auditor(contexts.page(javascript=True), lang)
        staff_journey(auditor.page, urls["staff"], urls["public"], lang, f"lawyer-{lang}",
                      auditor)
        assert len(auditor.audited) == 17
        assert auditor.findings == [], "\n".join(auditor.findings)


@pytest.mark.parametrize("lang", ["ar", "fa"])
def test_right_to_left_screenshots_without_javascript(initialised: Config, lang: str,
                                                     chromium_process: Chromium) -> None:
    shots = _artefacts()
    with haven_server(initialised) as urls, _contexts(chromium_process) as contexts:
        page = contexts.page(javascript=False)
        taken: list[Path] = []

        def shoot(name: str) -> None:
            assert page.locator("html").get_attribute("dir") == "rtl"
            if name in SHOTS:
                path = shots / f"{lang}-{name}.png"
                page.screenshot(path=str(path), full_page=True)
                taken.append(path)

        requester_journey(page, urls["public"], lang, shoot)
        codename = contexts.page(javascript=False, width=320, height=640)
        codename.goto(urls["public"] + f"/language/{lang}?next=/start")
        path = shots / f"{lang}-codename-320px.png"
        codename.screenshot(path=str(path), full_page=True)
        taken.append(path)
    assert [p.name for p in taken] == [f"{lang}-landing.png", f"{lang}-new-request.png",
                                       f"{lang}-thread.png", f"{lang}-codename-320px.png"]
    assert all(p.stat().st_size > 10_000 for p in taken)


def test_keyboard_reaches_a_visible_skip_link_first(initialised: Config,
                                                    chromium_process: Chromium) -> None:
    with haven_server(initialised) as urls, _contexts(chromium_process) as contexts:
        page = contexts.page(javascript=False)
        page.goto(urls["public"] + "/language/fa?next=/")
        page.keyboard.press("Tab")
        focused = page.locator("a.skip")
        box = focused.bounding_box()
        assert box is not None
        assert 0 <= box["x"] < 900  # on screen, not parked off it
        assert box["width"] > 0
        outline = focused.evaluate("a => getComputedStyle(a).outlineStyle")
        assert outline == "solid"
