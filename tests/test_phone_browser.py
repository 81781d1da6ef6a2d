"""The requester's pages on a phone, in a real browser with JavaScript off.

A typo in the typed-back codename keeps the text and names the word; the
language buttons keep a half-filled form; the JavaScript warning shows only
when scripts run; and every requester page, at 390x844 CSS pixels in English
and Persian, has no touch target smaller than 44x44 px (WCAG 2.5.5, inline
links inside a sentence excepted as that criterion allows). Screenshots of
every page walked go to ``test-artefacts/phone`` (or ``$HAVEN_ARTEFACTS``).

``page.evaluate`` measures boxes over the DevTools protocol, which works with
the page's own JavaScript disabled.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser as Chromium
from playwright.sync_api import Page, expect

from onion_app.config import Config
from tests.browser import fresh_contexts, haven_server, navigate

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parent.parent
PHONE = {"width": 390, "height": 844}

# What a finger can tap: links, buttons and fields; a box inside its label is
# tapped through the label. Hidden and parked-off-screen elements (the skip
# link until focused, the honeypot) are not targets.
SMALL_TARGETS = """() => {
  const small = [];
  for (const el of document.querySelectorAll(
      'a[href], button, input:not([type=hidden]), select, textarea, summary')) {
    if (el.closest('[aria-hidden=true]')) continue;
    const target = (el.matches('input') && el.closest('label')) || el;
    const box = target.getBoundingClientRect();
    if (box.width === 0 || box.height === 0) continue;
    if (box.right <= 0 || box.left >= innerWidth) continue;
    const inSentence = el.tagName === 'A' && [...el.parentNode.childNodes].some(
      n => n.nodeType === Node.TEXT_NODE && n.textContent.trim() !== '');
    if (inSentence) continue;
    if (box.width < 43.5 || box.height < 43.5) {
      small.push(`${target.tagName.toLowerCase()}.${target.className} "${
        (target.textContent || target.name || '').trim().slice(0, 30)}" ${
        Math.round(box.width)}x${Math.round(box.height)}`);
    }
  }
  return small;
}"""


def _artefacts() -> Path:
    folder = Path(os.environ.get("HAVEN_ARTEFACTS", ROOT / "test-artefacts")) / "phone"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _codename(page: Page) -> str:
    return " ".join(page.locator("ol.codename li").all_inner_texts())


def _submit(page: Page) -> None:
    navigate(page.locator("main form#form button[type=submit]"))


def test_a_typo_in_the_codename_keeps_the_text_and_names_the_word(
        initialised: Config, chromium_process: Chromium) -> None:
    with haven_server(initialised) as urls, fresh_contexts(chromium_process) as contexts:
        page = contexts.page(**PHONE)
        page.goto(urls["public"] + "/start")
        words = _codename(page).split()
        typed = " ".join([*words[:3], words[3][:-1], *words[4:]]).upper()
        page.locator("[name=codename]").fill(typed)
        _submit(page)
        expect(page.locator("#codename-error")).to_contain_text("Word 4 does not match")
        expect(page.locator("[name=codename]")).to_have_value(typed)
        assert page.locator("[name=codename]").get_attribute("aria-invalid") == "true"
        page.locator("[name=codename]").fill("  " + "   ".join(words) + " ")
        _submit(page)
        assert urlsplit(page.url).path == "/requests/new"


def test_changing_language_on_a_half_filled_form_loses_nothing(
        initialised: Config, chromium_process: Chromium) -> None:
    with haven_server(initialised) as urls, fresh_contexts(chromium_process) as contexts:
        page = contexts.page(**PHONE)
        page.goto(urls["public"] + "/start")
        page.locator("[name=codename]").fill(_codename(page))
        _submit(page)
        page.locator("input[value=legal]").check()
        page.locator("input[value=critical]").check()
        page.locator("input[name=title]").fill("Passport taken")
        page.locator("textarea[name=story]").fill("Half of my story, not finished")
        navigate(page.locator("nav.languages button[value=fa]"))
        assert page.locator("html").get_attribute("lang") == "fa"
        assert urlsplit(page.url).path == "/requests/new"
        expect(page.locator("input[name=title]")).to_have_value("Passport taken")
        expect(page.locator("textarea[name=story]")).to_have_value(
            "Half of my story, not finished")
        expect(page.locator("input[value=legal]")).to_be_checked()
        expect(page.locator("input[value=critical]")).to_be_checked()
        expect(page.locator("input[value=en]")).to_be_checked()  # ticked in English first
        expect(page.locator("input[value=fa]")).not_to_be_checked()
        expect(page.locator("p.error")).to_have_count(0)
        page.goto(urls["public"] + "/requests")  # the choice sticks
        assert page.locator("html").get_attribute("lang") == "fa"


def test_the_javascript_warning_shows_only_when_scripts_run(
        initialised: Config, chromium_process: Chromium) -> None:
    with haven_server(initialised) as urls, fresh_contexts(chromium_process) as contexts:
        scripted = contexts.page(javascript=True, **PHONE)
        scripted.goto(urls["public"] + "/")
        expect(scripted.locator("p.js-on")).to_be_visible()
        box = scripted.locator("p.js-on").bounding_box()
        assert box is not None
        assert box["y"] < 200  # at the top, seen first on a phone
        safest = contexts.page(**PHONE)
        safest.goto(urls["public"] + "/")
        expect(safest.locator("p.js-on")).to_be_hidden()
        expect(safest.locator("h1")).to_be_visible()


def _walk(page: Page, base: str, on_page: Callable[[str], None]) -> None:
    """Every requester page, as a person reaches it, JavaScript off."""
    page.goto(base + "/")
    on_page("landing")
    page.goto(base + "/start")
    on_page("codename")
    words = _codename(page).split()
    page.locator("[name=codename]").fill(" ".join(words[:6]))
    _submit(page)
    on_page("codename-typo")
    page.locator("[name=codename]").fill(" ".join(words))
    _submit(page)
    on_page("new-request")
    _submit(page)
    on_page("new-request-refused")
    page.locator("input[value=legal]").check()
    page.locator("input[name=title]").fill("گذرنامه‌ام را گرفتند")
    page.locator("textarea[name=story]").fill("Border guards took my passport.")
    _submit(page)
    page.locator("textarea[name=text]").fill("A follow-up.")
    _submit(page)
    on_page("thread")
    thread = page.url
    page.goto(base + "/requests")
    on_page("my-requests")
    page.goto(base + "/practice")
    on_page("practice")
    page.locator("[name=codename]").fill(" ".join([*words[:6], "wrong"]))
    _submit(page)
    on_page("practice-typo")
    page.goto(thread + "/delete")
    on_page("delete-request")
    page.goto(base + "/account/delete")
    on_page("delete-account")
    navigate(page.locator("nav.site button"))  # sign out
    page.goto(base + "/login")
    on_page("login")
    page.goto(base + "/login?show=1")
    on_page("login-words-shown")
    page.locator("[name=codename]").fill("seven words that open nothing at all")
    _submit(page)
    on_page("login-refused")
    page.goto(base + "/requests/new")
    on_page("signed-out")
    page.goto(base + "/no/such/page")
    on_page("not-found")


@pytest.mark.parametrize("lang", ["en", "fa"])
def test_no_touch_target_under_44_px_and_screenshots(initialised: Config, lang: str,
                                                     chromium_process: Chromium) -> None:
    shots = _artefacts()
    small: list[str] = []
    taken: list[Path] = []
    with haven_server(initialised) as urls, fresh_contexts(chromium_process) as contexts:
        page = contexts.page(**PHONE)
        page.goto(urls["public"] + f"/language/{lang}?next=/")

        def check(name: str) -> None:
            page.wait_for_load_state("load")
            assert page.locator("html").get_attribute("lang") == lang, name
            small.extend(f"[{lang}] {name}: {found}" for found in page.evaluate(SMALL_TARGETS))
            path = shots / f"{lang}-{len(taken) + 1:02d}-{name}.png"
            page.screenshot(path=str(path), full_page=True)
            taken.append(path)

        _walk(page, urls["public"], check)
    assert len(taken) == 16
    assert all(p.stat().st_size > 5_000 for p in taken)
    assert small == [], "\n".join(small)


def test_the_touch_target_check_finds_small_targets(initialised: Config,
                                                    chromium_process: Chromium) -> None:
    """Without Haven's stylesheet, links and checkboxes are their browser
    sizes (13 px boxes, 18 px lines): the check must report them."""
    with haven_server(initialised) as urls, fresh_contexts(chromium_process) as contexts:
        page = contexts.page(**PHONE)
        page.route("**/haven.css", lambda route: route.abort())
        page.goto(urls["public"] + "/start")
        page.locator("[name=codename]").fill(_codename(page))
        _submit(page)
        small = page.evaluate(SMALL_TARGETS)
        assert any(found.startswith('button. "English"') for found in small), small
        assert any(found.startswith("label.") for found in small), small
        assert not any("Leave this field empty" in found for found in small)  # the honeypot
