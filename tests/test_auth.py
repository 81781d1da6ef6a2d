from __future__ import annotations

from flask import Flask

from onion_app.web import auth
from onion_app.web.state import state_of


def test_a_session_of_another_kind_does_not_count(public_app: Flask) -> None:
    client = public_app.test_client()
    with public_app.test_request_context():
        sid = auth.store().create("volunteer", 1, None)
    with client.session_transaction() as cookie:
        cookie["sid"] = sid
    assert client.get("/requests").status_code == 302


def test_only_listed_endpoints_are_open(public_app: Flask) -> None:
    open_endpoints = state_of(public_app).open_endpoints
    assert open_endpoints == {"requester.landing", "requester.start", "requester.login",
                              "requester.logout", "language.choose", "favicon"}
    client = public_app.test_client()
    for rule in public_app.url_map.iter_rules():
        if rule.endpoint in open_endpoints or rule.endpoint == "static":
            continue
        url = rule.rule.replace("<public_id>", "A" * 22)
        for method in (rule.methods or set()) - {"HEAD", "OPTIONS"}:
            response = client.open(url, method=method)
            assert response.status_code in (302, 400), (url, method)
            if response.status_code == 302:
                assert response.location == "/login"


def test_login_replaces_the_session_id(public_app: Flask) -> None:
    with public_app.test_request_context():
        from flask import session

        auth.start("requester", 1, None, account_ref="ab")
        first = session["sid"]
        auth.start("requester", 1, None, account_ref="ab")
        assert session["sid"] != first
        assert auth.store().get(first) is None
