"""The requester's journey in a real browser with JavaScript disabled."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser as Chromium
from playwright.sync_api import expect

from onion_app.config import Config
from tests.browser import chromium, haven_server, navigate

pytestmark = pytest.mark.browser

STORY = "Border guards took my passport. I need advice on asylum."


def test_requester_journey_without_javascript(initialised: Config, tmp_path: Path,
                                             chromium_process: Chromium) -> None:
    with haven_server(initialised) as urls, \
            chromium(chromium_process, tmp_path / "screenshots") as browser:
        page = browser.page
        base = urls["public"]
        page.goto(base + "/")
        browser.shot("landing")
        navigate(page.get_by_role("link", name="Ask for help").first)
        codename = " ".join(page.locator("ol.codename li").all_inner_texts())
        assert len(codename.split()) == 7
        browser.shot("codename")
        page.get_by_label("Type your codename here").fill(codename)
        navigate(page.get_by_role("button", name="My copy is right: make my account"))
        assert urlsplit(page.url).path == "/requests/new"
        browser.shot("new-request")

        page.get_by_label("Legal help and asylum").check()
        page.get_by_label("Persian").check()
        page.get_by_label("Urgent").check()
        page.get_by_label("A short title").fill("Passport taken")
        page.get_by_label("What is happening?").fill(STORY)
        navigate(page.get_by_role("button", name="Seal and send"))
        assert urlsplit(page.url).path.startswith("/requests/")
        expect(page.locator("body")).to_contain_text(STORY)
        request_path = urlsplit(page.url).path
        browser.shot("request")

        navigate(page.get_by_role("link", name="My requests"))
        expect(page.locator("body")).to_contain_text("Nobody can read it yet")
        browser.shot("my-requests")
        navigate(page.get_by_role("button", name="Sign out"))
        browser.shot("signed-out")

        navigate(page.get_by_role("link", name="I have a codename").first)
        page.get_by_label("Your codename").fill(codename.upper())
        navigate(page.get_by_role("button", name="Sign in"))
        assert urlsplit(page.url).path == "/requests"
        navigate(page.get_by_role("link", name="Passport taken"))
        assert urlsplit(page.url).path == request_path
        expect(page.locator("body")).to_contain_text(STORY)
        browser.shot("request-again")

        host = urlsplit(base).netloc
        assert browser.requested, "the browser recorded no requests"
        assert browser.foreign({host}) == []
    assert len(list((tmp_path / "screenshots").glob("*.png"))) == 7
