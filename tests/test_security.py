"""Every response of both apps carries the headers of DESIGN §6, and no page
holds script or a reference to another host."""

from __future__ import annotations

import io
import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from onion_app.web.security import CSP, SecurityHeaders

REQUIRED = {
    "Content-Security-Policy": CSP,
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
}

FORBIDDEN_MARKUP = [
    re.compile(r"<script", re.I),
    re.compile(r"""=\s*["']?\s*javascript:""", re.I),
    re.compile(r"<[^>]+\son[a-z]+\s*=", re.I),
    re.compile(r"""(?:src|href|action|formaction)\s*=\s*["']?(?:[a-z][a-z0-9+.-]*:)?//""", re.I),
    re.compile(r"@import|url\(", re.I),
    re.compile(r"<(?:svg|iframe|object|embed|video|audio|math)\b", re.I),
    re.compile(r"""<img\b(?![^>]*src="/)""", re.I),  # images only from this site
]


def check_headers(response: TestResponse) -> None:
    for name, value in REQUIRED.items():
        assert response.headers.get(name) == value, name
    assert "Server" not in response.headers
    assert "X-Powered-By" not in response.headers
    if response.mimetype == "text/html":
        assert response.headers["Cache-Control"] == "no-store"
    for cookie in response.headers.getlist("Set-Cookie"):
        lower = cookie.lower()
        assert "httponly" in lower
        assert "samesite=strict" in lower
        if "max-age=0" in lower:  # a cookie being deleted carries a date in 1970
            continue
        assert "expires" not in lower
        assert "max-age" not in lower


def check_markup(body: str) -> None:
    for pattern in FORBIDDEN_MARKUP:
        assert not pattern.search(body), pattern.pattern


def _url(app: Flask, rule: object) -> str:
    arguments = {name: "A" * 22 for name in rule.arguments}  # type: ignore[attr-defined]
    with app.test_request_context():
        return str(app.url_for(rule.endpoint, **arguments))  # type: ignore[attr-defined]


def test_every_route_answers_with_every_header(app: Flask, client: FlaskClient) -> None:
    rules = list(app.url_map.iter_rules())
    assert rules
    for rule in rules:
        url = _url(app, rule) if rule.endpoint != "static" else "/static/haven.css"
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            response = client.open(url, method=method)
            check_headers(response)
            if response.mimetype == "text/html":
                check_markup(response.get_data(as_text=True))
            response.close()


@pytest.mark.parametrize(("method", "path", "status"), [
    ("GET", "/no/such/page", 404),
    ("DELETE", "/", 405),
    ("POST", "/", 405),
])
def test_error_responses_carry_the_headers(client: FlaskClient, method: str, path: str,
                                           status: int) -> None:
    response = client.open(path, method=method)
    assert response.status_code == status
    check_headers(response)
    check_markup(response.get_data(as_text=True))


def test_static_css_is_small_and_plain(client: FlaskClient) -> None:
    response = client.get("/static/haven.css")
    assert response.status_code == 200
    check_headers(response)
    css = response.get_data(as_text=True)
    response.close()
    assert len(css.encode()) <= 6 * 1024
    for pattern in (r"@import", r"url\(", r"@font-face", r"expression\("):
        assert not re.search(pattern, css, re.I), pattern
    assert "Last-Modified" not in response.headers
    assert "ETag" not in response.headers


def test_wrapper_replaces_weaker_headers_set_by_a_view() -> None:
    def inner(_environ: dict[str, object], start_response: object) -> list[bytes]:
        start_response("200 OK", [  # type: ignore[operator]
            ("Content-Type", "text/html"), ("X-Frame-Options", "ALLOW"),
            ("Server", "leaky/1.0"), ("Cache-Control", "public, max-age=60"),
        ])
        return [b"<p>hi</p>"]

    seen: list[tuple[str, str]] = []

    def start_response(_status: str, headers: list[tuple[str, str]], _exc: object = None) -> None:
        seen.extend(headers)

    SecurityHeaders(inner)({}, start_response)
    names = [k for k, _ in seen]
    assert dict(seen)["X-Frame-Options"] == "DENY"
    assert names.count("X-Frame-Options") == 1
    assert "Server" not in names
    assert dict(seen)["Cache-Control"] == "no-store"


def test_every_page_of_a_signed_in_requester(public_app: Flask) -> None:
    from tests.journey import csrf, new_account, reply, submitted_id

    client = public_app.test_client()
    new_account(client)
    public_id = submitted_id(client, title="<b>t</b>", story="<i>s</i>")
    reply(client, public_id, "<u>r</u>")
    sent = client.post(f"/requests/{public_id}/reply", content_type="multipart/form-data",
                       data={"csrf_token": csrf(client, f"/requests/{public_id}"), "text": "f",
                             "files": [(io.BytesIO(b"<b>a note</b>\n"), "<i>n</i>.txt")]})
    assert sent.status_code == 302
    file_id = re.findall(r"/files/([A-Za-z0-9_-]{22})\"", client.get(sent.location).get_data(
        as_text=True))[0]
    for rule in public_app.url_map.iter_rules():
        if "GET" not in (rule.methods or set()) or rule.endpoint == "static":
            continue
        url = (rule.rule.replace("<public_id>", public_id).replace("<code>", "fa")
               .replace("<file_id>", file_id))
        # The language chooser answers with a redirect; the page it leads to counts.
        response = client.get(url, follow_redirects=rule.endpoint == "language.choose")
        assert response.status_code == 200, rule.rule
        if rule.endpoint == "requester.download":  # a download is sandboxed on top
            assert response.headers["Content-Security-Policy"] == f"{CSP}; sandbox"
            assert response.mimetype == "application/octet-stream"
            continue
        check_headers(response)
        check_markup(response.get_data(as_text=True))
