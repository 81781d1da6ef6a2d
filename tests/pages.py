"""Every page of both apps, reached as a person reaches it, in a chosen language.

Shared by the translation tests: each walk builds what its pages need (an
account, a request, a reply, a volunteer, an applicant) through the test
client, then fetches each page with the language cookie set.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass

from flask import Flask
from flask.testing import FlaskClient
from nacl.public import PrivateKey

from crypto.keytext import encode_public_key
from onion_app.domain.handles import HANDLE_MAX
from onion_app.domain.taxonomy import LANGUAGES, SKILLS
from onion_app.store import staff
from onion_app.store.connection import Connection
from tests import journey as requester
from tests.haven_cli import cli_runner
from tests.journey import csrf
from tests.staff_journey import PASSPHRASE, apply, approve, enrol, install_clock, login

Page = tuple[str, int, str]  # name, status, HTML


# What Tor Browser sends with every request.
ACCEPT_ENCODING = "gzip, deflate, br"


def stylesheets_as_sent(app: Flask, page: str) -> int:
    """The bytes of the stylesheets ``page`` links to, as a first visit in Tor
    Browser at Safest fetches them: gzip-compressed where Haven compresses
    (haven.css), and noscript.css too, which loads when scripts are off."""
    client = app.test_client()
    total = 0
    hrefs = re.findall(r'<link rel="stylesheet" href="([^"]+)">', page)
    assert len(hrefs) == 2, hrefs
    for href in hrefs:
        response = client.get(href, headers={"Accept-Encoding": ACCEPT_ENCODING})
        assert response.status_code == 200, href
        total += len(response.get_data())
        response.close()
    return total


def _choose(client: FlaskClient, role: str, code: str) -> None:
    client.set_cookie(f"haven_{role}_language", code)


def _fetch(client: FlaskClient, name: str, url: str, method: str = "GET",
           data: dict[str, object] | None = None) -> Page:
    response = client.open(url, method=method, data=data, follow_redirects=True)
    return name, response.status_code, response.get_data(as_text=True)


def public_pages(app: Flask, code: str) -> list[Page]:
    """Every page a requester can see, in language ``code``."""
    anonymous = app.test_client()
    _choose(anonymous, "public", code)
    pages = [_fetch(anonymous, "landing", "/"), _fetch(anonymous, "start", "/start"),
             _fetch(anonymous, "login", "/login"), _fetch(anonymous, "not found", "/nowhere")]
    pages.append(_fetch(anonymous, "login refused", "/login", "POST", {
        "csrf_token": csrf(anonymous, "/login"), "codename": "not a codename at all"}))
    pages.append(_fetch(anonymous, "signed out while writing", "/requests/new", "POST",
                        {"title": "kept", "story": "kept story"}))

    client = app.test_client()
    _choose(client, "public", code)
    requester.new_account(client)
    pages.append(_fetch(client, "new request", "/requests/new"))
    pages.append(_fetch(client, "new request refused", "/requests/new", "POST",
                        {"csrf_token": csrf(client, "/requests/new"), "title": ""}))
    public_id = requester.submitted_id(client)
    requester.reply(client, public_id, "A follow-up.")
    thread = f"/requests/{public_id}"
    pages += [_fetch(client, "thread", thread), _fetch(client, "my requests", "/requests"),
              _fetch(client, "delete request", f"{thread}/delete"),
              _fetch(client, "delete account", "/account/delete")]
    pages.append(_fetch(client, "closed thread", f"{thread}/close", "POST",
                        {"csrf_token": csrf(client, thread)}))
    return pages + _every_plain_page(app, client)


@dataclass
class StaffWorld:
    operator: FlaskClient
    volunteer: FlaskClient
    enrolling: FlaskClient
    request_id: str
    applicant_url: str


def staff_world(staff_app: Flask, public_app: Flask) -> StaffWorld:
    """An operator, a volunteer with a request sealed to them, one applicant
    waiting, and one approved volunteer halfway through TOTP enrolment."""
    clock = install_clock(staff_app)
    made = cli_runner(staff_app).invoke(args=["operator", "create", "op"],
                                              input=f"{PASSPHRASE}\n{PASSPHRASE}\n")
    assert made.exit_code == 0, made.output
    operator = staff_app.test_client()
    enrol(operator, clock, "op")
    volunteer = staff_app.test_client()
    apply(volunteer, "lawyer", skills=("legal",), languages=("fa",))
    approve(operator, "lawyer")
    enrol(volunteer, clock, "lawyer")
    enrolling = staff_app.test_client()
    apply(enrolling, "newcomer")
    approve(operator, "newcomer")
    login(enrolling, "newcomer")
    apply(staff_app.test_client(), "applicant")
    listing = operator.get("/operator/applications").get_data(as_text=True)
    applicant_url = "/operator/applications/" + listing.split(
        '/operator/applications/')[1][:22]
    asker = public_app.test_client()
    requester.new_account(asker)
    request_id = requester.submitted_id(asker, skills=["legal"], languages=["fa"])
    for client in (operator, volunteer):  # shows, so forgets, the flashes of the setup
        client.get("/dashboard")
    return StaffWorld(operator, volunteer, enrolling, request_id, applicant_url)


def staff_pages(staff_app: Flask, world: StaffWorld, code: str) -> list[Page]:
    """Every page a volunteer or operator can see, in language ``code``."""
    for client in (world.operator, world.volunteer, world.enrolling):
        _choose(client, "staff", code)
    anonymous = staff_app.test_client()
    _choose(anonymous, "staff", code)
    case = f"/cases/{world.request_id}"
    pages = [_fetch(anonymous, "landing", "/"), _fetch(anonymous, "apply", "/apply"),
             _fetch(anonymous, "login", "/login"), _fetch(anonymous, "not found", "/nowhere")]
    pages.append(_fetch(anonymous, "apply refused", "/apply", "POST",
                        {"csrf_token": csrf(anonymous, "/apply"), "handle": "x"}))
    offline = staff_app.test_client()
    _choose(offline, "staff", code)
    pages.append(("key check", 200, apply(
        offline, f"offline-{code}",
        offline_key=encode_public_key(PrivateKey.generate().public_key)).get_data(as_text=True)))
    pages.append(_fetch(offline, "key check refused", "/apply/key", "POST",
                        {"csrf_token": csrf(offline, "/apply/key"), "answer": "wrong"}))
    sent = staff_app.test_client()
    _choose(sent, "staff", code)
    apply(sent, f"sent-{code}")
    pages.append(_fetch(sent, "application sent", "/apply/sent"))
    pages.append(_fetch(world.enrolling, "enrol", "/enrol"))
    volunteer = world.volunteer
    pages += [_fetch(volunteer, "dashboard", "/dashboard"), _fetch(volunteer, "case", case),
              _fetch(volunteer, "account", "/account"),
              _fetch(volunteer, "delete account", "/account/delete")]
    pages.append(_fetch(volunteer, "claimed", f"{case}/claim", "POST",
                        {"csrf_token": csrf(volunteer, case)}))
    pages.append(_fetch(volunteer, "replied", f"{case}/reply", "POST",
                        {"csrf_token": csrf(volunteer, case), "text": "I can help."}))
    pages.append(_fetch(volunteer, "offline", f"{case}/offline"))
    pages.append(_fetch(volunteer, "resolve?", f"{case}/resolve"))
    pages.append(_fetch(volunteer, "flag?", f"{case}/flag"))
    pages.append(_fetch(volunteer, "flag refused", f"{case}/flag", "POST",
                        {"csrf_token": csrf(volunteer, case)}))
    pages.append(_fetch(volunteer, "flagged", f"{case}/flag", "POST",
                        {"csrf_token": csrf(volunteer, case), "reason": "other"}))
    operator = world.operator
    for name in ("", "applications", "volunteers", "requests", "audit"):
        pages.append(_fetch(operator, f"operator {name or 'counts'}", f"/operator/{name}"))
    pages.append(_fetch(operator, "application", world.applicant_url))
    pages.append(_fetch(operator, "flagged requests", "/operator/requests?flagged=1"))
    return pages + _every_plain_page(staff_app, operator)


# Pages without an identifier in their address, fetched by a signed-in person:
# a page added later is walked without anyone remembering to list it here.
_NOT_PAGES = {"static", "favicon", "language.choose", "volunteer.enrol_qr",
              "volunteer.export_bundle", "volunteer.key_challenge"}


def _every_plain_page(app: Flask, client: FlaskClient) -> list[Page]:
    return [_fetch(client, f"every page: {rule.rule}", rule.rule)
            for rule in app.url_map.iter_rules()
            if "GET" in (rule.methods or ()) and not rule.arguments
            and rule.endpoint not in _NOT_PAGES]


Walk = Callable[[str], list[Page]]


def crowd(conn: Connection, count: int, status: str, *, heaviest: bool = True) -> None:
    """``count`` accounts of ``status``. The heaviest rows the operator's lists
    can show: the longest handles (two bytes a letter) and every skill; else
    as people are: "lawyer-03", two skills."""
    for n in range(count):
        handle = (f"{status[0]}{n:02d}" + "ж" * (HANDLE_MAX - 3) if heaviest
                  else f"{('lawyer', 'writer')[n % 2]}-{status[0]}{n:02d}")
        skills = frozenset(SKILLS) if heaviest else frozenset(sorted(SKILLS)[n % 5:][:2])
        staff.create_volunteer(conn, staff.Application(
            handle=handle, public_key=os.urandom(32), wrapped_key=None,
            passphrase_hash=b"unused", skills=skills, languages=frozenset(LANGUAGES),
            availability="", bio="", references="", mlkem_public_key=None,
            handle_skeleton=f"crowd-{status}-{n}"), status=status)
    conn.commit()
