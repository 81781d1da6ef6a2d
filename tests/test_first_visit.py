"""A first visit's cached page, answered before Flask: the same page, a working token."""

from __future__ import annotations

import re
import time
from collections.abc import Iterable
from typing import Any

import pytest
from flask import Flask
from flask.sessions import SecureCookieSessionInterface
from flask_wtf.csrf import validate_csrf
from itsdangerous import URLSafeTimedSerializer
from itsdangerous.timed import TimestampSigner

from onion_app.web.error_pages import SERVER_ERROR
from onion_app.web.first_visit import FirstVisit, csrf_signer, new_csrf
from onion_app.web.page_cache import page_cache_of
from onion_app.web.security import SECURITY_HEADERS

TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def _front(app: Flask) -> FirstVisit:
    front = app.wsgi_app.app  # type: ignore[attr-defined]  (SecurityHeaders wraps it)
    assert isinstance(front, FirstVisit)
    return front


class _Counted:
    """Flask's own WSGI entry, counting the requests the front passed on."""

    def __init__(self, wsgi: Any) -> None:
        self.wsgi, self.calls = wsgi, 0

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        self.calls += 1
        result: Iterable[bytes] = self.wsgi(environ, start_response)
        return result


@pytest.fixture
def flask_calls(public_app: Flask) -> _Counted:
    front = _front(public_app)
    counted = _Counted(front.wsgi)
    front.wsgi = counted
    return counted


def _without_cookie_values(headers: Any) -> dict[str, str]:
    shown = dict(headers)
    if "Set-Cookie" in shown:
        shown["Set-Cookie"] = re.sub(r"=[^;]*;", "=…;", shown["Set-Cookie"], count=1)
    return shown


@pytest.mark.parametrize("path", ["/", "/login"])
def test_a_cookieless_visit_gets_what_flask_gave(public_app: Flask, flask_calls: _Counted,
                                                 path: str) -> None:
    rendered = public_app.test_client().get(path)  # renders, and fills the cache
    assert flask_calls.calls == 1
    served = public_app.test_client().get(path)
    assert flask_calls.calls == 1, "the second visit was answered by the front"
    assert served.status_code == 200
    assert _without_cookie_values(served.headers) == _without_cookie_values(rendered.headers)
    assert TOKEN.sub("", served.get_data(as_text=True)) == TOKEN.sub(
        "", rendered.get_data(as_text=True))
    for name, value in SECURITY_HEADERS:
        assert served.headers[name] == value


def test_the_token_it_gives_signs_in_through_flask(public_app: Flask,
                                                   flask_calls: _Counted) -> None:
    public_app.test_client().get("/login")
    visitor = public_app.test_client()
    page = visitor.get("/login").get_data(as_text=True)
    assert flask_calls.calls == 1
    found = TOKEN.search(page)
    assert found is not None
    answer = visitor.post("/login", data={"csrf_token": found.group(1),
                                          "codename": "abacus abdomen"})
    # Past the CSRF check: the form itself was read and its codename refused.
    assert "not a valid codename" in answer.get_data(as_text=True)
    # Another visitor's cookie does not go with this token.
    other = public_app.test_client()
    other.get("/login")
    refused = other.post("/login", data={"csrf_token": found.group(1),
                                         "codename": "abacus abdomen"})
    assert "not a valid codename" not in refused.get_data(as_text=True)


def _csrf_check(visitor: Any, token: str) -> str:
    """What the CSRF check made of a sign-in with ``token``: "passed" (the form
    was read, and found wanting), or "refused" (Haven's page for a forged form)."""
    answer = visitor.post("/login", data={"csrf_token": token, "codename": "abacus abdomen"})
    refused = "did not come from this site" in answer.get_data(as_text=True)
    assert answer.status_code in {200, 400}
    return "refused" if refused and answer.status_code == 400 else "passed"


def _other_signature(signed: str) -> str:
    """``signed`` with the first character of its signature changed: all six
    of its bits count (the last character's do not)."""
    value, signature = signed.rsplit(".", 1)
    return f"{value}.{'B' if signature[0] == 'A' else 'A'}{signature[1:]}"


def _front_visit(app: Flask) -> tuple[Any, str, str]:
    """A visitor whose /login came from the front: (its client, token, cookie value)."""
    app.test_client().get("/login")  # renders, and fills the cache
    visitor = app.test_client()
    answer = visitor.get("/login")
    found = TOKEN.search(answer.get_data(as_text=True))
    assert found is not None
    cookie = visitor.get_cookie(str(app.config["SESSION_COOKIE_NAME"]))
    assert cookie is not None
    return visitor, found.group(1), cookie.value


def test_its_token_and_cookie_are_what_the_libraries_make(
        public_app: Flask, flask_calls: _Counted, monkeypatch: pytest.MonkeyPatch) -> None:
    # One second for every signature, so that the bytes can be compared.
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda _self: 1_800_000_000)
    _visitor, token, cookie = _front_visit(public_app)
    assert flask_calls.calls == 1
    flask_session = SecureCookieSessionInterface().get_signing_serializer(public_app)
    assert flask_session is not None
    secret = flask_session.loads(cookie)["csrf_token"]
    assert cookie == flask_session.dumps({"csrf_token": secret})
    # As Flask-WTF's generate_csrf signs the secret it puts in the session.
    assert token == URLSafeTimedSerializer(public_app.secret_key,
                                           salt="wtf-csrf-token").dumps(secret)


@pytest.mark.parametrize("role", ["public", "staff"])
def test_a_changed_or_old_token_or_cookie_is_refused(
        role: str, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    app: Flask = request.getfixturevalue(f"{role}_app")
    visitor, token, cookie = _front_visit(app)
    assert _csrf_check(visitor, token) == "passed"
    changed = _other_signature(token)
    assert _csrf_check(_front_visit(app)[0], changed) == "refused"
    # Its cookie, changed, is no session: the token has nothing to match.
    visitor, token, cookie = _front_visit(app)
    name = str(app.config["SESSION_COOKIE_NAME"])
    visitor.set_cookie(name, "x" + cookie[1:] if cookie[0] != "x" else "y" + cookie[1:])
    assert _csrf_check(visitor, token) == "refused"
    # A cookie older than Flask's session lifetime is no session either.
    lifetime = int(app.permanent_session_lifetime.total_seconds())
    now = int(time.time())
    with monkeypatch.context() as then:
        then.setattr(TimestampSigner, "get_timestamp", lambda _self: now - lifetime - 60)
        visitor, token, _cookie = _front_visit(app)
    assert _csrf_check(visitor, token) == "refused"


def test_each_visitor_gets_a_new_secret_and_token(public_app: Flask) -> None:
    public_app.test_client().get("/login")
    answers = [public_app.test_client().get("/login") for _ in range(3)]
    tokens = {TOKEN.findall(a.get_data(as_text=True))[0] for a in answers}
    cookies = {a.headers["Set-Cookie"] for a in answers}
    assert len(tokens) == 3
    assert len(cookies) == 3
    for page in (page for _, page in page_cache_of(public_app)._pages.values()):
        assert not tokens & set(TOKEN.findall(page))


def test_new_csrf_makes_a_pair_flask_wtf_accepts(public_app: Flask) -> None:
    secret, token = new_csrf(csrf_signer(public_app))
    with public_app.test_request_context("/login"):
        from flask import session

        session["csrf_token"] = secret
        validate_csrf(token)  # raises if Flask-WTF disagrees
        session["csrf_token"] = new_csrf(csrf_signer(public_app))[0]
        with pytest.raises(Exception, match="do not match"):
            validate_csrf(token)


@pytest.mark.parametrize(("accept", "cookie", "lang"), [
    ("fa-IR,fa;q=0.9", None, "fa"),
    ("fa", "ru", "ru"),
    ("xx-YY", None, "en"),
    ("fa", "xx", "fa"),
])
def test_the_language_is_chosen_as_flask_chooses_it(public_app: Flask, flask_calls: _Counted,
                                                    accept: str, cookie: str | None,
                                                    lang: str) -> None:
    def visit() -> str:
        client = public_app.test_client()
        if cookie is not None:
            client.set_cookie("haven_public_language", cookie)
        return client.get("/", headers={"Accept-Language": accept}).get_data(as_text=True)

    rendered = visit()
    served = visit()
    assert flask_calls.calls == 1
    assert served == rendered
    assert f'<html lang="{lang}"' in served


@pytest.mark.parametrize("change", [
    {"query_string": "x=1"},
    {"method": "HEAD"},
    {"data": "a=1", "content_type": "application/x-www-form-urlencoded", "method": "GET"},
    {"environ_base": {SERVER_ERROR: 400}},
])
def test_anything_but_a_plain_get_goes_to_flask(public_app: Flask, flask_calls: _Counted,
                                                change: dict[str, Any]) -> None:
    public_app.test_client().get("/")
    method = change.pop("method", "GET")
    public_app.test_client().open("/", method=method, **change)
    assert flask_calls.calls == 2


def test_a_visitor_with_a_session_goes_to_flask(public_app: Flask,
                                                flask_calls: _Counted) -> None:
    visitor = public_app.test_client()
    visitor.get("/login")
    visitor.get("/login")  # the session cookie from the first page now rides along
    assert flask_calls.calls == 2
    with visitor.session_transaction() as cookie:
        cookie["_flashes"] = [("ok", "For this visitor only")]
    assert "For this visitor only" in visitor.get("/").get_data(as_text=True)


def test_an_uncached_page_is_rendered_by_flask(public_app: Flask,
                                               flask_calls: _Counted) -> None:
    public_app.test_client().get("/start")
    public_app.test_client().get("/start")
    assert flask_calls.calls == 2
    page_cache_of(public_app).clear()
    public_app.test_client().get("/")
    assert flask_calls.calls == 3


def test_the_staff_sign_in_page_is_served_too(staff_app: Flask) -> None:
    staff_app.test_client().get("/login")
    front = _front(staff_app)
    counted = _Counted(front.wsgi)
    front.wsgi = counted
    answer = staff_app.test_client().get("/login")
    assert counted.calls == 0
    assert answer.headers["Set-Cookie"].startswith("haven_staff=")
    assert "HttpOnly" in answer.headers["Set-Cookie"]
    assert "SameSite=Strict" in answer.headers["Set-Cookie"]


def test_a_cookie_header_that_is_not_utf8_still_gets_the_page(public_app: Flask) -> None:
    # waitress hands headers over as latin-1: a 0xff byte reaches the front as
    # "\xff", which the UTF-8-decoding cookie parser refused with a 500.
    visitor = public_app.test_client(use_cookies=False)  # the header goes as written
    for cookie, lang in (("x=\xff", "en"), ("x=\xff; haven_public_language=fa", "fa")):
        visitor.get("/", headers={"Cookie": cookie})  # rendered by Flask, then kept
        answer = visitor.get("/", headers={"Cookie": cookie})
        assert answer.status_code == 200
        assert f'<html lang="{lang}"' in answer.get_data(as_text=True)


def test_only_the_start_of_a_huge_accept_language_is_read(public_app: Flask,
                                                          flask_calls: _Counted) -> None:
    junk = ",".join(f"l{n};q=0.{n % 9 + 1}" for n in range(20_000))
    for header, lang in ((f"fa,{junk}", "fa"), (f"{'x' * 600},fa", "en")):
        rendered = public_app.test_client().get("/", headers={"Accept-Language": header})
        served = public_app.test_client().get("/", headers={"Accept-Language": header})
        assert f'<html lang="{lang}"' in rendered.get_data(as_text=True)
        assert served.get_data() == rendered.get_data()
    assert flask_calls.calls == 2  # each language rendered once, then served by the front
