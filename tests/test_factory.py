from __future__ import annotations

import time

import pytest
from flask import Flask
from flask.sessions import SecureCookieSessionInterface
from itsdangerous.timed import TimestampSigner

from onion_app import create_app
from onion_app.config import Config
from onion_app.errors import ConfigError
from onion_app.web.signing import SignedOnce


def _paths(app: Flask) -> set[str]:
    return {rule.rule for rule in app.url_map.iter_rules()}


def test_unknown_role_is_refused(initialised: Config) -> None:
    with pytest.raises(ConfigError, match="role must be one of"):
        create_app("admin", initialised)


def test_each_app_has_only_its_blueprints(public_app: Flask, staff_app: Flask) -> None:
    # The language chooser is the one blueprint both apps share.
    assert set(public_app.blueprints) == {"requester", "language"}
    assert "requester" not in staff_app.blueprints
    assert staff_app.blueprints


def test_every_staff_url_is_absent_from_the_public_app(public_app: Flask,
                                                       staff_app: Flask) -> None:
    public = public_app.test_client()
    # Paths both apps have (/, /login, ...) are the requester's own pages there.
    staff_only = _paths(staff_app) - _paths(public_app)
    assert "/dashboard" in staff_only
    assert "/operator/" in staff_only
    for rule in staff_app.url_map.iter_rules():
        if rule.rule not in staff_only:
            continue
        url = rule.rule
        for name in rule.arguments:
            url = url.replace(f"<{name}>", "A" * 22)
        for method in (rule.methods or set()) - {"HEAD", "OPTIONS"}:
            assert public.open(url, method=method).status_code == 404, url
    # And the staff landing page is not what the public app serves at "/".
    assert b"Haven for volunteers" not in public.get("/").data


def test_landing_pages(public_app: Flask, staff_app: Flask) -> None:
    public = public_app.test_client().get("/")
    assert public.status_code == 200
    assert b"<h1>" in public.data
    assert b"Tor Browser" in public.data
    staff = staff_app.test_client().get("/")
    assert staff.status_code == 200
    assert b"Haven for volunteers" in staff.data


def test_secret_key_is_random_per_app_unless_configured(initialised: Config) -> None:
    one = create_app("public", initialised)
    two = create_app("public", initialised)
    assert one.config["SECRET_KEY"] != two.config["SECRET_KEY"]
    assert len(one.config["SECRET_KEY"]) >= 32
    fixed = initialised.with_changes(secret_key=b"x" * 32)
    assert create_app("public", fixed).config["SECRET_KEY"] == b"x" * 32


def test_session_cookie_settings(public_app: Flask) -> None:
    assert public_app.config["SESSION_COOKIE_HTTPONLY"] is True
    assert public_app.config["SESSION_COOKIE_SAMESITE"] == "Strict"
    assert public_app.config["SESSION_PERMANENT"] is False


def test_the_session_is_signed_once_and_as_flask_signs_it(
        public_app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    interface = public_app.session_interface
    signer = interface.get_signing_serializer(public_app)  # type: ignore[attr-defined]
    assert isinstance(signer, SignedOnce)
    assert interface.get_signing_serializer(public_app) is signer  # type: ignore[attr-defined]
    # One second for every signature, so that the bytes can be compared.
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda _self: 1_800_000_000)
    visitor = public_app.test_client()
    with visitor.session_transaction() as session:  # saved by Haven's interface
        session["_flashes"] = [("ok", "From Haven's signer")]
    cookie = visitor.get_cookie("haven_public")
    assert cookie is not None
    flask_own = SecureCookieSessionInterface().get_signing_serializer(public_app)
    assert flask_own is not None
    with public_app.app_context():  # as in a request: Flask's JSON settings
        assert cookie.value == flask_own.dumps(
            {"_flashes": [("ok", "From Haven's signer")]})


def test_a_cookie_flask_signed_is_read_until_it_is_too_old(
        public_app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    flask_own = SecureCookieSessionInterface().get_signing_serializer(public_app)
    assert flask_own is not None
    lifetime = int(public_app.permanent_session_lifetime.total_seconds())
    now = int(time.time())

    def shown(age: int, tampered: bool = False) -> bool:
        with monkeypatch.context() as then:
            then.setattr(TimestampSigner, "get_timestamp", lambda _self: now - age)
            value = flask_own.dumps({"_flashes": [("ok", "From Flask's signer")]})
        if tampered:
            value = ("x" if value[0] != "x" else "y") + value[1:]  # another payload
        visitor = public_app.test_client()
        visitor.set_cookie("haven_public", value)
        return "From Flask&#39;s signer" in visitor.get("/").get_data(as_text=True)

    assert shown(lifetime - 60)
    assert not shown(lifetime + 60)
    assert not shown(0, tampered=True)
