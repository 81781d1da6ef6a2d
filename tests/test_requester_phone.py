"""The requester's pages made for a frightened person on a phone (issue 14):
codename feedback and practice, masked sign-in, a language switch that keeps
what was typed, who runs the site, emergencies, the JavaScript warning."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient

from onion_app import create_app
from onion_app.config import Config
from onion_app.errors import ConfigError
from onion_app.store import Database
from tests.conftest import make_config
from tests.journey import CODENAME, CSRF, csrf, new_account


@pytest.fixture
def client(public_app: Flask) -> FlaskClient:
    return public_app.test_client()


def _count_requests(config: Config) -> int:
    conn = Database(config).open()
    try:
        return int(conn.execute("SELECT count(*) FROM requests").fetchone()[0])
    finally:
        conn.close()


def test_sign_in_masks_the_codename_unless_asked(client: FlaskClient) -> None:
    page = client.get("/login").get_data(as_text=True)
    field = re.search(r"<input[^>]*name=\"codename\"[^>]*>", page)
    assert field
    for attribute in ('type="password"', 'autocomplete="off"', 'spellcheck="false"',
                      'autocapitalize="off"'):
        assert attribute in field.group(0)
    assert 'href="/login?show=1"' in page
    shown = client.get("/login?show=1").get_data(as_text=True)
    field = re.search(r"<input[^>]*name=\"codename\"[^>]*>", shown)
    assert field
    assert 'type="text"' in field.group(0)
    assert 'action="/login?show=1"' in shown  # a refusal keeps the chosen mode
    refused = client.post("/login?show=1", data={
        "csrf_token": csrf(client, "/login"), "codename": "seven words open nothing here at all"})
    text = refused.get_data(as_text=True)
    assert refused.status_code == 400
    assert "seven words open nothing" not in text  # a secret is never sent back
    assert 'type="text"' in text


def test_sign_in_names_a_word_that_is_not_on_the_list(client: FlaskClient) -> None:
    codename = new_account(client)
    client.post("/logout", data={"csrf_token": csrf(client, "/requests")})
    words = codename.split()
    typo = " ".join([*words[:2], words[2] + "qx", *words[3:]])
    refused = client.post("/login", data={"csrf_token": csrf(client, "/login"),
                                          "codename": typo})
    assert refused.status_code == 400
    text = refused.get_data(as_text=True)
    assert "Word 3 is not one of Haven&#39;s words." in text
    assert words[2] + "qx" not in text


def test_the_codename_is_numbered_and_explained(client: FlaskClient) -> None:
    page = client.get("/start").get_data(as_text=True)
    assert '<ol class="codename" lang="en" dir="ltr">' in page
    assert "in English on purpose" in page
    assert "with their numbers" in page


def test_practice_names_the_wrong_word_then_stops_asking(client: FlaskClient) -> None:
    codename = new_account(client)
    listing = client.get("/requests").get_data(as_text=True)
    assert 'href="/practice"' in listing
    words = codename.split()
    token = csrf(client, "/practice")
    typed = " ".join([*words[:4], "zzz", *words[5:]])
    wrong = client.post("/practice", data={"csrf_token": token, "codename": typed})
    assert wrong.status_code == 400
    text = wrong.get_data(as_text=True)
    assert "Word 5 does not match" in text
    assert typed not in text  # nothing typed is shown back
    right = client.post("/practice", data={"csrf_token": token, "codename": codename.upper()})
    assert right.status_code == 302
    assert 'href="/practice"' not in client.get("/requests").get_data(as_text=True)
    assert client.get("/practice").status_code == 302  # done: nothing more to practise


def test_a_signed_in_returning_requester_is_not_asked_to_practise(client: FlaskClient) -> None:
    codename = new_account(client)
    client.post("/logout", data={"csrf_token": csrf(client, "/requests")})
    client.post("/login", data={"csrf_token": csrf(client, "/login"), "codename": codename})
    assert 'href="/practice"' not in client.get("/requests").get_data(as_text=True)


def test_changing_language_on_the_request_form_keeps_everything(
        client: FlaskClient, initialised: Config) -> None:
    new_account(client)
    response = client.post("/requests/new", data={
        "csrf_token": csrf(client, "/requests/new"), "hl": "fa", "skills": ["legal"],
        "languages": ["ru"], "urgency": "critical", "region": "mena",
        "title": "TITLE-KEPT-1", "story": "STORY-KEPT-2", "help": "HELP-KEPT-3"})
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert '<html lang="fa" dir="rtl">' in page
    for kept in ("TITLE-KEPT-1", "STORY-KEPT-2", "HELP-KEPT-3", "value=legal checked",
                 "value=ru checked", "value=critical checked", 'selected value="mena"'):
        assert kept in page
    assert "value=fa checked" not in page  # what was ticked, not the default
    assert 'class="error"' not in page  # a switch is not a refusal
    assert _count_requests(initialised) == 0  # and sends nothing
    assert "haven_public_language=fa" in response.headers["Set-Cookie"]
    assert '<html lang="fa"' in client.get("/requests").get_data(as_text=True)


def test_changing_language_on_the_codename_page_keeps_the_codename(client: FlaskClient) -> None:
    page = client.get("/start").get_data(as_text=True)
    shown = CODENAME.search(page)
    token = CSRF.search(page)
    assert shown
    assert token
    again = client.post("/start", data={"csrf_token": token.group(1), "shown": shown.group(1),
                                        "codename": "half typed", "hl": "ar"})
    assert again.status_code == 200
    text = again.get_data(as_text=True)
    assert '<html lang="ar" dir="rtl">' in text
    assert CODENAME.search(text).group(1) == shown.group(1)  # type: ignore[union-attr]
    assert "half typed</textarea>" in text


def test_form_pages_switch_language_with_buttons_of_the_form(client: FlaskClient) -> None:
    new_account(client)
    page = client.get("/requests/new").get_data(as_text=True)
    assert ('<form method="post" action="/requests/new" id="form" '
            'enctype="multipart/form-data" novalidate>') in page
    assert page.count('<button form=form name=hl value=') == 9
    assert 'href="/language/' not in page
    assert 'href="/language/fa?next=/requests"' in client.get("/requests").get_data(as_text=True)


def test_the_interface_language_is_ticked_and_names_are_in_its_alphabet(
        client: FlaskClient) -> None:
    client.set_cookie("haven_public_language", "fa")
    new_account(client)
    page = client.get("/requests/new").get_data(as_text=True)
    assert "value=fa checked" in page
    assert page.count(" checked>") == 2  # Persian and the "Normal" urgency
    names = re.findall(r"name=languages value=\w+(?: checked)?>([^<]+)<", page)
    assert len(names) == 22
    assert "فارسی" in names
    # Persian order: پ (pe) comes right after ب (be), before ت (te).
    assert names.index("پرتغالی") < names.index("ترکی استانبولی")
    assert names.index("بلاروسی") < names.index("پرتغالی")
    english = FlaskClient(client.application)
    new_account(english)
    names = re.findall(r"name=languages value=\w+(?: checked)?>([^<]+)<",
                       english.get("/requests/new").get_data(as_text=True))
    assert names == sorted(names)
    assert "Persian" in names


def test_landing_puts_safety_first_and_says_who_runs_it(client: FlaskClient,
                                                       initialised: Config) -> None:
    page = client.get("/", headers={"Host": "a" * 56 + ".onion"}).get_data(as_text=True)
    assert page.index("Before you start") < page.index('href="/start"')
    assert "have not written who they are" in page
    assert "Check the address letter by letter" in page
    assert "a" * 56 + ".onion" not in page  # a Host header a client sent is never shown
    own = create_app("public", initialised.with_changes(
        about="Run by the Example Press Freedom Fund; address on example.org/haven <b>"))
    text = own.test_client().get("/", headers={"Host": "127.0.0.1"}).get_data(as_text=True)
    assert "Run by the Example Press Freedom Fund; address on example.org/haven &lt;b&gt;" in text
    assert "have not written who they are" not in text


def test_the_emergency_choice_says_what_haven_cannot_do(client: FlaskClient,
                                                        initialised: Config) -> None:
    new_account(client)
    page = client.get("/requests/new").get_data(as_text=True)
    note = page.index("not an emergency service")
    assert page.index("value=critical") < note < page.index("</fieldset>", note)
    own = create_app("public", initialised.with_changes(emergency="Call +00 123 day and night."))
    other = own.test_client()
    new_account(other)
    assert "Call +00 123 day and night." in other.get("/requests/new").get_data(as_text=True)


def test_operator_texts_are_bounded(tmp_path: object) -> None:
    with pytest.raises(ConfigError, match="HAVEN_EMERGENCY"):
        make_config(tmp_path / "i", HAVEN_EMERGENCY="x" * 241)  # type: ignore[operator]
    with pytest.raises(ConfigError, match="HAVEN_ABOUT"):
        make_config(tmp_path / "i", HAVEN_ABOUT="x" * 601)  # type: ignore[operator]


def test_a_warning_shows_unless_a_noscript_stylesheet_hides_it(client: FlaskClient,
                                                              public_app: Flask) -> None:
    page = client.get("/").get_data(as_text=True)
    assert '<p class="js-on" role="alert">' in page
    head = page.split("</head>")[0]
    assert '<noscript><link rel="stylesheet" href="/static/noscript.css"></noscript>' in head
    sheet = client.get("/static/noscript.css")
    assert sheet.status_code == 200
    assert ".js-on{display:none}" in sheet.get_data(as_text=True)
    sheet.close()  # a file response: its handle is closed when read


def test_a_switch_to_a_language_not_offered_is_an_ordinary_send(
        client: FlaskClient, initialised: Config) -> None:
    new_account(client)
    response = client.post("/requests/new", data={
        "csrf_token": csrf(client, "/requests/new"), "hl": "tlh", "title": "kept"})
    assert response.status_code == 400  # validated as a send: nothing chosen
    assert '<html lang="en"' in response.get_data(as_text=True)
    assert "Set-Cookie" not in response.headers or "language" not in response.headers["Set-Cookie"]


def test_changing_language_while_replying_keeps_the_reply(client: FlaskClient) -> None:
    new_account(client)
    response = client.post("/requests/new", data={
        "csrf_token": csrf(client, "/requests/new"), "skills": ["legal"], "languages": ["en"],
        "urgency": "normal", "region": "unsaid", "title": "T", "story": "S"})
    thread = response.location
    page = client.post(f"{thread}/reply", data={"csrf_token": csrf(client, thread),
                                                "text": "REPLY-HALF-WRITTEN", "hl": "ru"})
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert '<html lang="ru"' in text
    assert "REPLY-HALF-WRITTEN</textarea>" in text
    assert 'class="message mine"' not in client.get(thread).get_data(as_text=True)  # not sent
    client.post(f"{thread}/reply", data={"csrf_token": csrf(client, thread),
                                         "text": "REPLY-HALF-WRITTEN"})
    assert 'class="message mine"' in client.get(thread).get_data(as_text=True)  # sent now
