"""A real Haven server on loopback and Debian's chromium, JavaScript off.

Shared by the browser tests: the server is Haven's own waitress stack over a
real SQLCipher file; the browser is headless chromium driven by Playwright,
with JavaScript disabled as at Tor Browser's Safest level, recording every
request it makes so a test can show nothing left for another host.

This is the one place chromium is launched (``launch_chromium``), once per
test session, or once per pytest-xdist worker, by the session-scoped
``chromium_process`` fixture in ``conftest.py``: starting chromium costs about
a second, a fresh context a few milliseconds. What a test sees is always a
set of new contexts (``Contexts``), each its own cookie jar and cache, all
closed when the test ends, so no cookie, session or cached page crosses from
one test to the next.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from playwright.sync_api import Browser as Chromium
from playwright.sync_api import BrowserContext, Locator, Page, sync_playwright

from onion_app import create_app
from onion_app.config import Config
from onion_app.serving import serve
from onion_app.store import Database

CHROMIUM = "/usr/bin/chromium"
# Without these, chromium reaches out to Google's services at start; the
# machine has no network, and Haven's test must see only its own traffic.
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-default-apps", "--disable-extensions",
]


class Contexts:
    """Fresh contexts in the session's chromium for one test; ``close`` ends them all.

    Every context records the URLs its pages request into ``requested``, so a
    test can check that nothing went to another host.
    """

    def __init__(self, chromium: Chromium) -> None:
        self.chromium = chromium
        self.requested: list[str] = []
        self._opened: list[BrowserContext] = []

    def page(self, *, javascript: bool = False, width: int = 900, height: int = 900) -> Page:
        """A page in a new context: its own cookie jar, JavaScript off unless asked."""
        context = self.chromium.new_context(java_script_enabled=javascript,
                                            viewport={"width": width, "height": height})
        self._opened.append(context)
        page = context.new_page()
        page.set_default_timeout(15_000)
        page.on("request", lambda request: self.requested.append(request.url))
        return page

    def close(self) -> None:
        for context in self._opened:
            context.close()
        self._opened.clear()


@contextmanager
def launch_chromium() -> Iterator[Chromium]:
    """Debian's chromium, headless; closed on exit."""
    if shutil.which(CHROMIUM) is None:
        raise RuntimeError(f"{CHROMIUM} is missing: make test installs Debian's chromium")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True,
                                              args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@contextmanager
def fresh_contexts(chromium: Chromium) -> Iterator[Contexts]:
    """Contexts for one test, closed when it ends, whether it passed or not."""
    contexts = Contexts(chromium)
    try:
        yield contexts
    finally:
        contexts.close()


@dataclass
class Browser:
    """Pages (one per person, each in its own cookie jar), what they requested,
    and where the screenshots go."""

    page: Page
    shots: Path
    new_person: Callable[[], Page]
    requested: list[str] = field(default_factory=list)
    count: int = 0

    def shot(self, name: str, page: Page | None = None) -> Path:
        self.count += 1
        path = self.shots / f"{self.count:02d}-{name}.png"
        (page or self.page).screenshot(path=str(path), full_page=True)
        return path

    def foreign(self, allowed: set[str]) -> list[str]:
        return [url for url in self.requested if urlsplit(url).netloc not in allowed]


def navigate(target: Locator) -> None:
    """Clicks a link or a form's button and waits until the page it leads to
    has loaded. Without JavaScript every click navigates, and click() returns
    before the next page arrives: a fill, a check or a measurement straight
    after it could land on the page being left (a typed-back codename went
    into the old form once, and the test saw /start again)."""
    with target.page.expect_navigation():
        target.click()


@contextmanager
def haven_server(config: Config) -> Iterator[dict[str, str]]:
    """Both apps served by waitress on free loopback ports; yields their base URLs."""
    Database(config).init()
    config = config.with_changes(public_port=0, staff_port=0)
    apps = {role: create_app(role, config) for role in ("public", "staff")}
    served = serve.start(apps, "127.0.0.1", {"public": 0, "staff": 0})
    try:
        yield {role: served.address(role).rstrip("/") for role in apps}
    finally:
        served.close()


@contextmanager
def chromium(launched: Chromium, shots: Path) -> Iterator[Browser]:
    """People in the session's chromium with JavaScript disabled, each a new context."""
    shots.mkdir(parents=True, exist_ok=True)
    with fresh_contexts(launched) as contexts:
        yield Browser(page=contexts.page(), shots=shots, new_person=contexts.page,
                      requested=contexts.requested)
