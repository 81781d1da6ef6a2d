"""Fuzzed requests over every route of both apps, shared by tests/test_fuzz.py
(Flask's test client, a few hundred cases) and bench/fuzz.py (a real waitress,
ten thousand and more).

A case is raw HTTP pieces (method, path, headers, body bytes), so both
transports send exactly the same thing. Each case picks one of a few people
(anonymous, a signed-in requester, a volunteer, an operator, a volunteer
halfway through enrolment) and, most of the time, carries that person's
valid CSRF token, so the fuzzed values get past the token check to the
validators and views, where the crashes were.
"""

from __future__ import annotations

import json
import re
import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from flask import Flask
from flask.testing import FlaskClient
from hypothesis import strategies as st

from onion_app.web.security import SECURITY_HEADERS
from tests import journey as requester
from tests.journey import CSRF
from tests.pages import staff_world

METHODS = ("GET", "POST", "POST", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS")
FORM = "application/x-www-form-urlencoded"
CONTENT_TYPES = (
    FORM, FORM, FORM, "multipart/form-data", "application/json", "application/json",
    "text/plain", None,
    f"{FORM}; charset=utf-16", "application/xml", "multipart/form-data; boundary=",
    "application/x-www-form-urlencoded\x7f", "*/*",
)
# Every field name of every Haven form, and a few no form has.
FIELDS = (
    "answer", "availability", "bio", "bundle", "code", "codename", "confirm", "current",
    "handle", "help", "note", "offline_key", "passphrase", "public_key", "reason",
    "references", "region", "shown", "story", "text", "title", "urgency", "volunteer",
    "website", "skills", "languages", "new", "repeat", "action", "page", "next",
    "csrf_token[]", "skills[0]", "a[b][c]", "", "\x00", "\u202e",
)
# Words a valid form would carry, so the fuzz also reaches deeper branches.
VALID = ("legal", "press", "fa", "en", "mena", "urgent", "other", "yes", "1", "on",
         "correct horse battery staple", "aaaa-bbbb-cccc-dddd")
ODD = ("\x00", "\ud800", "\udfff", "\ud83d", "\u202e", "\u200f", "\u200e", "\ufeff",
       "\u0000\u0000", "%", "%00", "%ED%A0%80", "&", "=", "+", ";", "\r\n", "<script>",
       "\u0627\u0644", "\U0001f600", "\\", '"', "'", "\x1b", "\u2028")
HUGE = (1_000, 10_001, 70_000, 400_000)


@dataclass(frozen=True)
class Person:
    """Someone the fuzz acts as: which app, the Cookie header, a valid CSRF token."""

    role: str
    name: str
    cookie: str
    token: str


@dataclass(frozen=True)
class World:
    """The people, and the real ids a route's ``<public_id>`` can take."""

    people: tuple[Person, ...]
    routes: dict[str, tuple[tuple[str, tuple[str, ...]], ...]]
    ids: tuple[str, ...]


@dataclass(frozen=True)
class Case:
    role: str
    method: str
    path: str
    headers: tuple[tuple[str, str], ...]
    body: bytes

    def __repr__(self) -> str:  # hypothesis prints it on failure: keep it short
        return (f"Case({self.role} {self.method} {self.path[:200]!r} headers="
                f"{[(k, v[:80]) for k, v in self.headers]!r} body={self.body[:300]!r}"
                f"...{len(self.body)} bytes)")


def _person(client: FlaskClient, role: str, name: str, page: str) -> Person:
    text = client.get(page).get_data(as_text=True)
    found = CSRF.search(text)
    assert found, f"no CSRF token on {page} for {name}"
    cookies = [f"{cookie.key}={cookie.value}" for cookie in client._cookies.values()]
    return Person(role, name, "; ".join(cookies), found.group(1))


def build_world(public_app: Flask, staff_app: Flask) -> World:
    """Signs the people in through their real journeys."""
    world = staff_world(staff_app, public_app)
    asker = public_app.test_client()
    requester.new_account(asker)
    request_id = requester.submitted_id(asker, skills=["legal"], languages=["fa"])
    anonymous_public = public_app.test_client()
    anonymous_staff = staff_app.test_client()
    people = (
        _person(anonymous_public, "public", "anonymous", "/login"),
        _person(asker, "public", "requester", "/requests/new"),
        _person(anonymous_staff, "staff", "anonymous", "/login"),
        _person(world.volunteer, "staff", "volunteer", f"/cases/{world.request_id}"),
        _person(world.operator, "staff", "operator", world.applicant_url),
        _person(world.enrolling, "staff", "enrolling", "/enrol"),
    )
    routes = {}
    for role, app in (("public", public_app), ("staff", staff_app)):
        routes[role] = tuple(
            (rule.rule, tuple(sorted((rule.methods or set()) - {"HEAD", "OPTIONS"})))
            for rule in app.url_map.iter_rules())
    applicant = world.applicant_url.rsplit("/", 1)[1]
    return World(people, routes, (request_id, world.request_id, applicant))


def _odd_text() -> st.SearchStrategy[str]:
    piece = st.one_of(
        st.sampled_from(VALID), st.sampled_from(ODD),
        st.text(alphabet=st.characters(codec=None, exclude_categories=()), max_size=20),
        st.builds(lambda c, n: c * n, st.sampled_from("a\u202e\x00\u0627\"&"),
                  st.sampled_from(HUGE)),
    )
    return st.lists(piece, min_size=0, max_size=4).map("".join)


# Built once: making a strategy costs more than drawing from it.
ODD_TEXT = _odd_text()
# Hosts no browser sends; "a..b" and its kind cannot be bound by Werkzeug at all.
ODD_HOSTS = ("a..b", "..", "", "[::1", "x:99999", "ha ven", "x" * 300, "-.onion")
FIELD_VALUES = st.lists(st.tuples(st.sampled_from(FIELDS), ODD_TEXT), max_size=6)

_JSON = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True), ODD_TEXT),
    lambda inner: st.one_of(st.lists(inner, max_size=3),
                            st.dictionaries(st.sampled_from(FIELDS), inner, max_size=3)),
    max_leaves=12,
)


def _bytes(text: str) -> bytes:
    return text.encode("utf-8", "surrogatepass")


def _percent(text: str) -> str:
    raw = _bytes(text)
    # Every byte escaped is valid too, and in C: quote() is slow on huge values.
    return "%" + raw.hex("%") if len(raw) > 1000 else quote(raw)


def _urlencoded(fields: list[tuple[str, str]]) -> bytes:
    return "&".join(f"{_percent(k)}={_percent(v)}" for k, v in fields).encode("ascii")


def _multipart(fields: list[tuple[str, str]], boundary: str, files: bool) -> bytes:
    parts = []
    for number, (name, value) in enumerate(fields):
        disposition = f'form-data; name="{name}"'
        if files and number % 2:
            disposition += f'; filename="{name or "f"}.bin"'
        parts.append(b"--" + boundary.encode() + b"\r\nContent-Disposition: "
                     + _bytes(disposition) + b"\r\n\r\n" + _bytes(value) + b"\r\n")
    return b"".join(parts) + b"--" + boundary.encode() + b"--\r\n"


def _deep(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


@st.composite
def cases(draw: st.DrawFn, world: World, *, past_the_gates: bool = False) -> Case:
    """One fuzzed request to one route of one app, as one of the world's people.

    :param past_the_gates: always the person's session and a valid token, and
        a method the route takes, so that the values reach forms and views
    """
    person = draw(st.sampled_from(world.people))
    routes = world.routes[person.role]
    if past_the_gates:
        # Signing out or deleting would end the person's session for every
        # later case; the other kind of run fuzzes those routes.
        routes = tuple(r for r in routes if not re.search(r"logout|delete|/static/", r[0]))
    rule, allowed = draw(st.sampled_from(routes))
    path = rule
    for argument in re.findall(r"<(?:[a-z]+:)?([a-z_]+)>", rule):
        known = st.sampled_from((*world.ids, "approve", "reject", "suspend", "fa", "en",
                                 "haven.css"))
        value = draw(known if past_the_gates else st.one_of(known, ODD_TEXT))
        path = re.sub(r"<(?:[a-z]+:)?" + argument + ">",
                      quote(_bytes(value[:300]), safe="") or "x", path, count=1)
    if draw(st.integers(0, 9)) == 0:
        path += "?" + _urlencoded(draw(FIELD_VALUES)).decode()
    method = draw(st.sampled_from(
        sorted(allowed, reverse=True)[:1] if past_the_gates else METHODS))
    host = "haven.onion" if draw(st.integers(0, 19)) else draw(st.sampled_from(ODD_HOSTS))
    headers: list[tuple[str, str]] = [("Host", host)]
    fields = draw(FIELD_VALUES)
    csrf = draw(st.sampled_from(("body", "header") if past_the_gates
                                else ("body", "body", "header", "header", "none", "wrong")))
    if csrf == "body":
        fields.insert(draw(st.integers(0, len(fields))), ("csrf_token", person.token))
    elif csrf == "header":
        headers.append(("X-CSRFToken", person.token))
    elif csrf == "wrong":
        fields.append(("csrf_token", draw(ODD_TEXT)))
    content_type = draw(st.sampled_from(CONTENT_TYPES))
    if csrf == "body" and not (content_type or "").startswith((FORM, "multipart/")):
        # Only a form body carries the token to the CSRF check; other bodies
        # get it in the header, so they reach the validators.
        headers.append(("X-CSRFToken", person.token))
    body = b""
    if method not in ("GET", "HEAD", "OPTIONS") or draw(st.integers(0, 9)) == 0:
        if content_type is not None and content_type.startswith("multipart/form-data"):
            boundary = secrets.token_hex(8)
            body = _multipart(fields, boundary, files=draw(st.booleans()))
            if content_type.endswith("="):
                content_type += draw(st.sampled_from((boundary, "", "\x00", "x" * 80)))
            else:
                content_type += f"; boundary={boundary}"
        elif content_type == "application/json":
            # Flask-WTF reads a JSON object as form data: its fields, with
            # values of any JSON type, go to the validators.
            document: Any = draw(st.one_of(_JSON, st.dictionaries(
                st.sampled_from(FIELDS), _JSON, min_size=1, max_size=6)))
            if isinstance(document, dict):
                document.update({k: v for k, v in fields if k == "csrf_token"})
            body = (_deep(draw(st.sampled_from((1, 2000, 100_000)))) if draw(st.integers(0, 5)) == 0
                    else _bytes(json.dumps(document, ensure_ascii=draw(st.booleans()))))
        elif content_type is not None and "utf-16" in content_type:
            body = "&".join(f"{k}={v}" for k, v in fields).encode("utf-16", "surrogatepass")
        else:
            body = _urlencoded(fields) if draw(st.booleans()) else draw(st.binary(max_size=200))
        if content_type is not None:
            headers.append(("Content-Type", content_type))
    cookie = "keep" if past_the_gates else draw(st.sampled_from((
        "keep", "keep", "keep", "keep", "none", "garbage", "language", "huge", "duplicate")))
    if cookie == "keep":
        headers.append(("Cookie", person.cookie))
    elif cookie == "garbage":
        headers.append(("Cookie", draw(st.sampled_from((
            "=", ";;;", "haven_public", "haven_staff=\x7f", '"unclosed', "a=b=c; ===",
            f"haven_{person.role}=" + "A" * 5000, f"haven_{person.role}=%00%ff")))))
    elif cookie == "language":
        headers.append(("Cookie", f"{person.cookie}; haven_{person.role}_language="
                        + draw(st.sampled_from(("fa", "zz", "", "%00", "fa\u202e".encode(
                            "utf-8").decode("latin-1"), "x" * 4000)))))
    elif cookie == "huge":
        headers.append(("Cookie", person.cookie + "; pad=" + "p" * 70_000))
    elif cookie == "duplicate":
        headers.append(("Cookie", f"{person.cookie}; {person.cookie}; haven_{person.role}=x"))
    if draw(st.integers(0, 4)) == 0:
        headers.append(("Accept-Language", draw(st.sampled_from((
            "fa", "ar;q=0.9, *;q=0.1", "zz-ZZ", ";;q=x", "fa;q=nan", "x" * 3000, "*")))))
    return Case(person.role, method, path, tuple(headers), body)


def problems(status: int, headers: dict[str, str], content_type: str) -> list[str]:
    """What is wrong with one response: a 5xx, or a missing Haven header.

    :param headers: names lowercased
    """
    found = []
    if status >= 500:
        found.append(f"status {status}")
    for name, value in SECURITY_HEADERS:
        # A download's policy is Haven's with a sandbox added: stricter, not missing.
        allowed = ({value, f"{value}; sandbox"} if name.lower() == "content-security-policy"
                   else {value})
        if headers.get(name.lower()) not in allowed:
            found.append(f"{name} is {headers.get(name.lower())!r}")
    if "server" in headers:
        found.append("a Server header")
    if content_type.startswith("text/html") and headers.get("cache-control") != "no-store":
        found.append("an HTML page without no-store")
    if status >= 400 and not content_type.startswith("text/html"):
        found.append(f"an error answered as {content_type!r}")
    return found
