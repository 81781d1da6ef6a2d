"""Every staff page weighs at most 10 KB of HTML, in every staff language.

Tor Browser on a slow circuit pays for every byte; the heaviest pages are the
application form (its language list) and a full dashboard page.
"""

from __future__ import annotations

from flask import Flask

from onion_app.i18n.languages import STAFF_LANGUAGES
from onion_app.operator.views import APPLICATIONS_PAGE_SIZE, VOLUNTEERS_PAGE_SIZE
from onion_app.requester.forms import TITLE_MAX
from onion_app.store.caseload import PAGE_SIZE
from onion_app.web.limits import TokenBucket
from onion_app.web.state import Runtime, state_of
from tests import journey as requester
from tests.pages import crowd, staff_pages, staff_world

PAGE_MAX = 10 * 1024


def _weight(page: str) -> int:
    return len(page.encode("utf-8"))


def test_every_staff_page_is_at_most_10_kb(staff_app: Flask, public_app: Flask) -> None:
    world = staff_world(staff_app, public_app)
    heavy = []
    for lang in STAFF_LANGUAGES:
        weights = sorted(((_weight(page), name) for name, _status, page
                          in staff_pages(staff_app, world, lang.code)), reverse=True)
        # With -s: the heaviest pages, for the figures in a report.
        print(lang.code, ", ".join(f"{name} {weight}" for weight, name in weights[:4]))
        heavy += [(lang.code, name, weight) for weight, name in weights if weight > PAGE_MAX]
    assert heavy == [], heavy


def test_a_full_dashboard_page_is_at_most_10_kb(staff_app: Flask, public_app: Flask) -> None:
    """A whole page of requests, each with a title as long as a title may be
    (two bytes a letter, as in Persian or Russian), two skills, and urgent or
    critical: still one page under 10 KB, in every staff language."""
    world = staff_world(staff_app, public_app)
    # One test writes a page's worth of requests at once: room for them in
    # the site-wide window, which is not what this test is about.
    state_of(public_app).submissions = TokenBucket(6 * 4 * PAGE_SIZE, burst=4 * PAGE_SIZE)
    asker = public_app.test_client()
    for n in range(PAGE_SIZE):
        if n % 5 == 0:  # a codename holds at most five open requests
            requester.new_account(asker)
        requester.submitted_id(
            asker, title=f"{n:02d} " + "ж" * (TITLE_MAX - 3), skills=["legal", "care"],
            languages=["fa", "en", "ar"], urgency=("critical", "urgent")[n % 2])
    heavy = []
    for lang in STAFF_LANGUAGES:
        world.volunteer.set_cookie("haven_staff_language", lang.code)
        page = world.volunteer.get("/dashboard").get_data(as_text=True)
        assert page.count(" href=\"/cases/") == PAGE_SIZE
        print(lang.code, "dashboard", _weight(page))
        if _weight(page) > PAGE_MAX:
            heavy.append((lang.code, _weight(page)))
    assert heavy == [], heavy


def test_full_pages_of_volunteers_and_applications_are_at_most_10_kb(
        staff_app: Flask, public_app: Flask, runtime: Runtime) -> None:
    """The operator's lists are paged: a full page of the heaviest rows stays
    under 10 KB in every staff language, and the next page holds the rest."""
    world = staff_world(staff_app, public_app)
    with runtime.database.connect() as conn:
        crowd(conn, VOLUNTEERS_PAGE_SIZE + 1, "vetted")
        crowd(conn, APPLICATIONS_PAGE_SIZE, "applied")  # one applicant was there already
    heavy = []
    for lang in STAFF_LANGUAGES:
        world.operator.set_cookie("haven_staff_language", lang.code)
        for path in ("/operator/volunteers", "/operator/applications"):
            page = world.operator.get(path).get_data(as_text=True)
            assert f'href="{path}?page=2"' in page, path
            print(lang.code, path, _weight(page))
            if _weight(page) > PAGE_MAX:
                heavy.append((lang.code, path, _weight(page)))
            rest = world.operator.get(f"{path}?page=2").get_data(as_text=True)
            assert rest.count("жжж") >= 1, path
            assert f'href="{path}"' in rest or f'href="{path}?page=1"' in rest, path
    assert heavy == [], heavy
