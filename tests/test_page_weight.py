"""Every requester page weighs at most 10 KB of HTML, in every language.

A requester on a slow Tor circuit, on a phone, pays for every byte; the
limit is Haven's rule for its pages (the one stylesheet comes on top, cached).
What a person wrote is not counted against the page: the walk writes short
texts, so what is weighed is Haven's own markup and words.
"""

from __future__ import annotations

import pytest
from flask import Flask

from onion_app import create_app
from onion_app.config import ABOUT_MAX, EMERGENCY_MAX, Config
from onion_app.i18n import PUBLIC_LANGUAGES
from tests.pages import public_pages

LIMIT = 10 * 1024


@pytest.mark.parametrize("code", [lang.code for lang in PUBLIC_LANGUAGES])
def test_every_requester_page_weighs_at_most_10_kb(public_app: Flask, code: str) -> None:
    pages = public_pages(public_app, code)
    weights = {name: len(html.encode()) for name, _status, html in pages}
    assert len(weights) >= 12
    heavy = {name: weight for name, weight in weights.items() if weight > LIMIT}
    assert heavy == {}, f"pages over {LIMIT} bytes in {code}: {heavy} (all: {weights})"


def test_the_longest_operator_texts_still_fit(initialised: Config) -> None:
    """HAVEN_ABOUT and HAVEN_EMERGENCY at their limits, in a two-byte script,
    on the heaviest pages (the landing page and the request form)."""
    app = create_app("public", initialised.with_changes(about="ж" * ABOUT_MAX,
                                                        emergency="ж" * EMERGENCY_MAX))
    for code in ("uk", "ru", "fa"):
        pages = public_pages(app, code)
        weights = {name: len(html.encode()) for name, _status, html in pages}
        assert "ж" * EMERGENCY_MAX in dict((n, h) for n, _s, h in pages)["new request"]
        heavy = {name: weight for name, weight in weights.items() if weight > LIMIT}
        assert heavy == {}, f"pages over {LIMIT} bytes in {code}: {heavy}"
