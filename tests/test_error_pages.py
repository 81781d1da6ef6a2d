"""Error pages say what happened, carry the security headers and leak nothing."""

from __future__ import annotations

import pytest
from flask import Flask, render_template_string
from flask_wtf import FlaskForm

from onion_app import create_app
from onion_app.config import Config
from onion_app.web.state import state_of
from tests.test_security import check_headers, check_markup

LEAKS = ("Traceback", "File \"", "werkzeug", "Werkzeug", "flask", "python", "/work/", "/tmp/")


@pytest.fixture
def app_with_forms(initialised: Config, role: str) -> Flask:
    app = create_app(role, initialised)

    # Test-only routes: the foundation has no form of its own yet, and these
    # exercise the app-wide CSRF, size-limit and crash handling for real.
    @app.route("/_test/form", methods=["GET", "POST"])
    def form() -> str:
        posted = FlaskForm()
        if posted.validate_on_submit():
            return "accepted"
        return render_template_string('<form method="post">{{ f.csrf_token }}</form>', f=posted)

    @app.get("/_test/crash")
    def crash() -> str:
        raise RuntimeError("secret internal detail /work/main/onion_app")

    _open(app, "form", "crash")
    return app


def _open(app: Flask, *endpoints: str) -> None:
    """Lets anonymous visitors reach test-only endpoints past deny-by-default."""
    state_of(app).open_endpoints |= frozenset(endpoints)


def _no_leak(body: str) -> None:
    for leak in LEAKS:
        assert leak not in body, leak


def test_post_without_csrf_token_gets_a_clear_400(app_with_forms: Flask) -> None:
    response = app_with_forms.test_client().post("/_test/form", data={"x": "1"})
    assert response.status_code == 400
    body = response.get_data(as_text=True)
    assert "did not come from this site" in body
    check_headers(response)
    check_markup(body)
    _no_leak(body)


def test_post_with_csrf_token_is_accepted(app_with_forms: Flask) -> None:
    client = app_with_forms.test_client()
    page = client.get("/_test/form").get_data(as_text=True)
    token = page.split('value="')[1].split('"')[0]
    response = client.post("/_test/form", data={"csrf_token": token})
    assert response.get_data(as_text=True) == "accepted"


def test_oversized_body_gets_a_friendly_413(app_with_forms: Flask) -> None:
    limit = app_with_forms.config["MAX_CONTENT_LENGTH"]
    response = app_with_forms.test_client().post(
        "/_test/form", data={"story": "x" * (limit + 1)})
    assert response.status_code == 413
    body = response.get_data(as_text=True)
    assert "shorten it" in body
    check_headers(response)
    _no_leak(body)


def test_crash_is_a_plain_500(app_with_forms: Flask) -> None:
    app_with_forms.testing = False  # let the handler answer instead of re-raising
    app_with_forms.config["PROPAGATE_EXCEPTIONS"] = False
    response = app_with_forms.test_client().get("/_test/crash")
    assert response.status_code == 500
    body = response.get_data(as_text=True)
    assert "Something went wrong" in body
    assert "secret internal detail" not in body
    check_headers(response)
    _no_leak(body)


@pytest.mark.parametrize(("code", "word"), [
    (400, "not right"), (403, "Not allowed"), (404, "Not found"), (405, "cannot be used"),
    (413, "Too much"), (429, "Wait a little"), (500, "went wrong"),
])
def test_each_error_page_speaks_plainly(app_with_forms: Flask, code: int, word: str) -> None:
    from flask import abort

    @app_with_forms.get(f"/_test/abort{code}")
    def aborting() -> str:
        abort(code)

    _open(app_with_forms, "aborting")

    response = app_with_forms.test_client().get(f"/_test/abort{code}")
    assert response.status_code == code
    body = response.get_data(as_text=True)
    assert word in body
    assert body.count("<h1>") == 1
    check_headers(response)
    _no_leak(body)


def test_crash_log_holds_no_request_data(app_with_forms: Flask,
                                         caplog: pytest.LogCaptureFixture) -> None:
    app_with_forms.testing = False
    app_with_forms.config["PROPAGATE_EXCEPTIONS"] = False
    app_with_forms.test_client().get("/_test/crash?codename=SECRET-IN-QUERY")
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "RuntimeError" in logged
    assert "crash" in logged
    assert "SECRET-IN-QUERY" not in logged
    assert "secret internal detail" not in logged
    assert "/_test/crash" not in logged


# Host headers a client can send that Werkzeug cannot bind: an empty label,
# a name IDNA refuses. Haven builds relative links only.
UNBINDABLE_HOSTS = ("a..b", "..", ".", "a." + "b" * 64 + ".onion", "-.onion")


@pytest.mark.parametrize("host", UNBINDABLE_HOSTS)
def test_a_host_that_cannot_be_bound_still_gets_a_haven_page(app: Flask, host: str) -> None:
    client = app.test_client()
    for path, status in (("/nowhere", 404), ("/login", 200), ("/static/haven.css", 200)):
        response = client.get(path, headers={"Host": host})
        assert response.status_code == status, (host, path)
        check_headers(response)
        if response.mimetype == "text/html":
            page = response.get_data(as_text=True)
            assert 'href="/static/haven.css"' in page
            assert not any(leak in page for leak in LEAKS)
