"""A real Haven server on loopback and Debian's chromium, JavaScript off.

Shared by the browser tests: the server is Haven's own waitress stack over a
real SQLCipher file; the browser is headless chromium driven by Playwright,
with JavaScript disabled as at Tor Browser's Safest level, recording every
request it makes so a test can show nothing left for another host.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from playwright.sync_api import Page, sync_playwright

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
def chromium(shots: Path) -> Iterator[Browser]:
    """Headless chromium with JavaScript disabled."""
    if shutil.which(CHROMIUM) is None:
        raise RuntimeError(f"{CHROMIUM} is missing: make test installs Debian's chromium")
    shots.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True,
                                             args=CHROMIUM_ARGS)
        requested: list[str] = []

        def new_person() -> Page:
            context = browser.new_context(java_script_enabled=False,
                                          viewport={"width": 900, "height": 900})
            page = context.new_page()
            page.set_default_timeout(15_000)
            page.on("request", lambda request: requested.append(request.url))
            return page

        try:
            yield Browser(page=new_person(), shots=shots, new_person=new_person,
                          requested=requested)
        finally:
            browser.close()
