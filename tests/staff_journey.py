"""Steps of the volunteer's and operator's journeys through the test client."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from typing import Any

import pyotp
from flask import Flask
from flask.testing import FlaskClient

from onion_app.config import Config
from onion_app.domain import totp
from onion_app.store import Database, staff
from onion_app.web.state import state_of
from tests.journey import csrf

PASSPHRASE = "violet harbour lantern gravel"
SECRET = re.compile(r'<code class="secret">([A-Z2-7]+)</code>')


class StepClock:
    """TOTP time that moves on by one 30-second step whenever a test asks for a
    code, so each login gets a fresh code without waiting for real time."""

    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now

    def next_code(self, secret: str) -> str:
        self.now += 30
        return pyotp.TOTP(secret).at(self.now)


def install_clock(app: Flask) -> StepClock:
    clock = StepClock()
    state_of(app).codes = totp.CodeChecker(clock=clock)
    return clock


@dataclass
class Volunteer:
    handle: str
    passphrase: str
    secret: str | None = None


def apply(client: FlaskClient, handle: str, *, passphrase: str = PASSPHRASE,
          skills: tuple[str, ...] = ("legal",), languages: tuple[str, ...] = ("fa", "en"),
          offline_key: str = "", follow_redirects: bool = True, **changes: Any) -> Any:
    data: dict[str, Any] = {
        "csrf_token": csrf(client, "/apply"), "handle": handle, "passphrase": passphrase,
        "confirm": passphrase, "skills": list(skills), "languages": list(languages),
        "availability": "weekly", "bio": f"I am {handle}, a lawyer in Berlin.",
        "references": "Ask the Berlin bar association.", "offline_key": offline_key,
    }
    data.update(changes)
    # Redirect-after-post: the page that answers is the one the redirect leads
    # to (the thank-you page, or the key check of an offline application).
    return client.post("/apply", data=data, follow_redirects=follow_redirects)


CHALLENGE = re.compile(r'<pre class="command" dir="ltr">(.+?)</pre>', re.S)


def challenge_of(page: str) -> str:
    """The sealed challenge an offline applicant is shown, as bundle text."""
    found = CHALLENGE.search(page)
    assert found, "no challenge on the page"
    return html.unescape(found.group(1))


def answer_key_check(client: FlaskClient, answer: str) -> Any:
    return client.post("/apply/key", data={"csrf_token": csrf(client, "/apply/key"),
                                           "answer": answer}, follow_redirects=True)


def login(client: FlaskClient, handle: str, passphrase: str = PASSPHRASE,
          code: str = "") -> Any:
    return client.post("/login", data={"csrf_token": csrf(client, "/login"), "handle": handle,
                                       "passphrase": passphrase, "code": code})


def enrol(client: FlaskClient, clock: StepClock, handle: str,
          passphrase: str = PASSPHRASE, lands: str | None = None) -> str:
    """First login after approval: sets up TOTP, then lands on ``lands`` when
    given. :returns: the TOTP secret"""
    response = login(client, handle, passphrase)
    assert response.status_code == 302, response.get_data(as_text=True)
    assert response.location == "/enrol"
    page = client.get("/enrol").get_data(as_text=True)
    found = SECRET.search(page)
    assert found, "no secret on the enrolment page"
    secret = found.group(1)
    done = client.post("/enrol", data={"csrf_token": csrf(client, "/enrol"),
                                       "code": clock.next_code(secret)})
    assert done.status_code == 302, done.get_data(as_text=True)
    assert lands is None or done.location == lands, done.location
    return secret


def sign_in(client: FlaskClient, clock: StepClock, volunteer: Volunteer) -> Any:
    assert volunteer.secret
    return login(client, volunteer.handle, volunteer.passphrase,
                 clock.next_code(volunteer.secret))


def approve(operator: FlaskClient, handle: str) -> None:
    page = operator.get("/operator/applications").get_data(as_text=True)
    found = re.search(r'href="/operator/applications/([A-Za-z0-9_-]{22})"><bdi>'
                      + re.escape(handle) + "<", page)
    assert found, f"{handle} is not among the applications"
    url = f"/operator/applications/{found.group(1)}"
    response = operator.post(url, data={"csrf_token": csrf(operator, url),
                                        "decision": "approve", "note": "references checked"})
    assert response.status_code == 302, response.get_data(as_text=True)


def audit_log(config: Config) -> list[tuple[str, str, str]]:
    """The audit log as operators read it: (who, what, object), oldest first."""
    with Database(config).connect() as conn:
        lines = staff.audit_lines(conn, 10_000, 0)
    return [(line.actor, line.action, line.object) for line in reversed(lines)]


def button(client: FlaskClient, url: str, page: str, **data: Any) -> Any:
    return client.post(url, data={"csrf_token": csrf(client, page), **data})
