"""The requester's whole journey through the test client, and what must not leak."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient

from crypto.envelope import seal
from onion_app.config import Config
from onion_app.domain import requester_keys, retention, sealing
from onion_app.domain.kdf_gate import KdfGate
from onion_app.requester.forms import HELP_MAX, STORY_MAX, TITLE_MAX
from onion_app.serving.commands.operator import purge_now
from onion_app.store import Database, connection
from onion_app.store import requests as rows
from onion_app.web.limits import TokenBucket
from onion_app.web.state import Runtime, state_of
from tests.journey import (
    CODENAME,
    CSRF,
    HEAVY,
    add_volunteer,
    csrf,
    dump_database,
    heaviest_thread,
    login,
    logout,
    new_account,
    reply,
    request_fields,
    submit,
    submitted_id,
    thread_pages,
)
from tests.test_security import check_headers, check_markup

MARKERS = {
    "title": "TITLE-MARKER-91c2",
    "story": "STORY-MARKER-5d7e",
    "help": "HELP-MARKER-0a4b",
    "reply": "REPLY-MARKER-ee31",
}


@pytest.fixture
def client(public_app: Flask) -> FlaskClient:
    return public_app.test_client()


def _request_id(initialised: Config, public_id: str) -> int:
    conn = Database(initialised).open()
    row = conn.execute("SELECT id FROM requests WHERE public_id = ?", (public_id,)).fetchone()
    conn.close()
    return int(row[0])


def test_landing_offers_both_ways_in(client: FlaskClient) -> None:
    page = client.get("/").get_data(as_text=True)
    assert 'href="/start"' in page
    assert 'href="/login"' in page
    assert "Safest" in page
    assert "Legal help and asylum" in page


def test_start_shows_a_codename_and_wants_it_typed_back(client: FlaskClient) -> None:
    page = client.get("/start").get_data(as_text=True)
    shown = CODENAME.search(page)
    assert shown
    assert len(shown.group(1).split()) == 7
    token = CSRF.search(page)
    assert token
    words = shown.group(1).split()
    # Words are numbered on the page, in the order they are typed.
    assert "".join(f"<li>{w}</li>" for w in words) in page
    wrong = " ".join([*words[:2], "zzzz", *words[3:6], "qqqq"])
    response = client.post("/start", data={"csrf_token": token.group(1),
                                           "shown": shown.group(1), "codename": wrong})
    assert response.status_code == 400
    again = response.get_data(as_text=True)
    assert "Words 3, 7 do not match" in again
    assert CODENAME.search(again).group(1) == shown.group(1)  # type: ignore[union-attr]
    # What was typed stays in the box (the page shows the codename anyway).
    assert f"{wrong}</textarea>" in again
    short = client.post("/start", data={"csrf_token": token.group(1),
                                        "shown": shown.group(1),
                                        "codename": " ".join(words[:3] + words[4:])})
    assert "You typed 6 words; a codename has seven. Check from word 4 on." in short.get_data(
        as_text=True)
    # Spacing and case do not matter when typing it back.
    sloppy = "  " + shown.group(1).upper().replace(" ", "   ") + " "
    done = client.post("/start", data={"csrf_token": token.group(1),
                                       "shown": shown.group(1), "codename": sloppy})
    assert done.status_code == 302
    assert done.location == "/requests/new"


def test_start_refuses_a_codename_it_did_not_show(client: FlaskClient) -> None:
    client.get("/start")
    chosen = "abacus abdomen abdominal abide abiding ability ablaze"
    response = client.post("/start", data={"csrf_token": csrf(client, "/login"),
                                           "shown": chosen, "codename": chosen})
    assert response.status_code == 302
    assert response.location == "/start"
    assert client.get("/requests").status_code == 302  # no account, no session


def test_whole_journey(client: FlaskClient, initialised: Config) -> None:
    codename = new_account(client)
    public_id = submitted_id(client, title=MARKERS["title"], story=MARKERS["story"],
                             help=MARKERS["help"])
    page = client.get(f"/requests/{public_id}").get_data(as_text=True)
    assert MARKERS["title"] in page
    assert MARKERS["story"] in page
    assert MARKERS["help"] in page
    assert "Nobody can read it yet" in page
    listing = client.get("/requests").get_data(as_text=True)
    assert public_id in listing
    assert "Nobody can read it yet" in listing
    assert reply(client, public_id, MARKERS["reply"]).status_code == 302
    logout(client)
    assert client.get("/requests").status_code == 302
    assert login(client, codename).status_code == 302
    page = client.get(f"/requests/{public_id}").get_data(as_text=True)
    assert MARKERS["reply"] in page
    assert MARKERS["story"] in page


def test_nothing_typed_is_readable_in_the_database(client: FlaskClient,
                                                   initialised: Config) -> None:
    new_account(client)
    public_id = submitted_id(client, title=MARKERS["title"], story=MARKERS["story"],
                             help=MARKERS["help"])
    reply(client, public_id, MARKERS["reply"])
    conn = Database(initialised).open()
    dump = dump_database(conn)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    raw = b"".join(p.read_bytes() for p in initialised.instance_path.iterdir() if p.is_file())
    for marker in MARKERS.values():
        assert marker not in dump
        assert marker.encode() not in raw


def test_no_time_finer_than_a_day_is_stored(client: FlaskClient, initialised: Config) -> None:
    new_account(client)
    public_id = submitted_id(client)
    reply(client, public_id, "hello")
    conn = Database(initialised).open()
    dump = dump_database(conn)
    conn.close()
    assert not re.search(r"\d{1,2}:\d{2}", dump)
    days = re.findall(r"'(\d{4}-\d{2}-\d{2}[^']*)'", dump)
    assert days
    assert all(len(day) == 10 for day in days)


def test_someone_elses_request_is_404(public_app: Flask) -> None:
    owner = public_app.test_client()
    new_account(owner)
    public_id = submitted_id(owner)
    other = public_app.test_client()
    new_account(other)
    for method, path in (("GET", ""), ("POST", "/reply"), ("POST", "/close"),
                         ("GET", "/delete"), ("POST", "/delete")):
        response = other.open(f"/requests/{public_id}{path}", method=method,
                              data={"csrf_token": csrf(other, "/requests"), "text": "x"})
        assert response.status_code == 404, path
    assert owner.get(f"/requests/{public_id}").status_code == 200


def test_anonymous_visitors_reach_only_the_open_pages(client: FlaskClient) -> None:
    for path in ("/", "/start", "/login"):
        assert client.get(path).status_code == 200, path
    for path in ("/requests", "/requests/new", "/requests/AAAAAAAAAAAAAAAAAAAAAA",
                 "/account/delete"):
        response = client.get(path)
        assert response.status_code == 302, path
        assert response.location == "/login"


XSS = '<script>alert(1)</script><img src=x onerror=alert(2)>"\'><a href="javascript:x">'


def test_xss_in_every_field_comes_back_escaped(client: FlaskClient) -> None:
    new_account(client)
    public_id = submitted_id(client, title=XSS[:120], story=XSS, help=XSS)
    reply(client, public_id, XSS)
    for path in (f"/requests/{public_id}", "/requests"):
        response = client.get(path)
        page = response.get_data(as_text=True)
        check_markup(page)
        check_headers(response)
    assert "&lt;script&gt;" in client.get(f"/requests/{public_id}").get_data(as_text=True)


def test_post_without_csrf_is_refused_plainly(client: FlaskClient) -> None:
    new_account(client)
    response = client.post("/requests/new", data=request_fields())
    assert response.status_code == 400
    assert "did not come from this site" in response.get_data(as_text=True)


@pytest.mark.parametrize(("field", "length", "message"), [
    ("title", 121, "120 characters or fewer"),
    ("story", 20_001, "20,000 characters or fewer"),
    ("help", 5_001, "5,000 characters or fewer"),
])
def test_over_long_fields_come_back_with_what_was_typed(client: FlaskClient, field: str,
                                                       length: int, message: str) -> None:
    new_account(client)
    typed = "ش" * length
    response = submit(client, **{field: typed, "title": "kept title" if field != "title"
                                 else typed})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert message in page
    assert typed in page
    assert 'value=legal checked' in page


def test_missing_choices_are_explained(client: FlaskClient) -> None:
    new_account(client)
    response = submit(client, skills=[], languages=[], story="still here")
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Choose at least one kind of help." in page
    assert "Choose at least one language." in page
    assert "still here" in page
    assert 'aria-describedby="languages-hint languages-error"' in page  # the hint, then why


def test_honeypot_filled_is_refused_and_nothing_lost(client: FlaskClient) -> None:
    new_account(client)
    response = submit(client, website="http://spam.example", story="a real story")
    assert response.status_code == 400
    assert "a real story" in response.get_data(as_text=True)
    assert "Nobody can read it yet" not in client.get("/requests").get_data(as_text=True)


def test_open_requests_cap(public_app: Flask, initialised: Config) -> None:
    client = public_app.test_client()
    new_account(client)
    for _ in range(initialised.open_requests_per_requester):
        submitted_id(client)
    response = submit(client, story="the sixth story")
    assert response.status_code == 429
    page = response.get_data(as_text=True)
    assert "open requests" in page
    assert "the sixth story" in page


def test_daily_message_cap(public_app: Flask, initialised: Config) -> None:
    client = public_app.test_client()
    new_account(client)
    public_id = submitted_id(client)
    for number in range(initialised.messages_per_requester_per_day):
        assert reply(client, public_id, f"message {number}").status_code == 302
    response = reply(client, public_id, "one too many")
    assert response.status_code == 429
    page = response.get_data(as_text=True)
    assert "send it tomorrow" in page
    assert "one too many" in page


def test_site_wide_submission_cap(public_app: Flask) -> None:
    state_of(public_app).submissions = TokenBucket(per_hour=1, burst=1)
    client = public_app.test_client()
    new_account(client)
    submitted_id(client)
    response = submit(client, story="waiting story")
    assert response.status_code == 429
    page = response.get_data(as_text=True)
    assert "waiting story" in page
    assert "wait a few minutes" in page
    # The next token: an hour away at one an hour, so about 3600 s.
    assert 3500 < int(response.headers["Retry-After"]) <= 3600


def test_daily_cap_per_codename(public_app: Flask, initialised: Config) -> None:
    client = public_app.test_client()
    new_account(client)
    for _ in range(initialised.requests_per_codename_per_day):
        public_id = submitted_id(client)
    # Closing one frees a place among the open ones, not in the day's count.
    client.post(f"/requests/{public_id}/close",
                data={"csrf_token": csrf(client, f"/requests/{public_id}")})
    response = submit(client, story="the sixth story today")
    assert response.status_code == 429
    page = response.get_data(as_text=True)
    assert "the most Haven takes from one codename in a day" in page
    assert "the sixth story today" in page
    assert 86000 < int(response.headers["Retry-After"]) <= 86400
    # Refused by its own cap, the codename took no site-wide token.
    other = public_app.test_client()
    new_account(other)
    submitted_id(other)


def test_new_codenames_are_bounded_and_the_shown_one_is_kept(public_app: Flask) -> None:
    state_of(public_app).codenames = TokenBucket(per_hour=2, burst=1)
    new_account(public_app.test_client())
    client = public_app.test_client()
    page = client.get("/start").get_data(as_text=True)
    shown = CODENAME.search(page)
    token = CSRF.search(page)
    assert shown
    assert token
    response = client.post("/start", data={"csrf_token": token.group(1),
                                           "shown": shown.group(1), "codename": shown.group(1)})
    assert response.status_code == 429
    assert 0 < int(response.headers["Retry-After"]) <= 1800
    refused = response.get_data(as_text=True)
    assert "Keep the codename you wrote down" in refused
    # The codename already on paper is the one shown again, and it still works.
    assert CODENAME.search(refused).group(1) == shown.group(1)  # type: ignore[union-attr]
    state_of(public_app).codenames = TokenBucket(per_hour=2, burst=1)
    again = client.post("/start", data={"csrf_token": token.group(1),
                                        "shown": shown.group(1), "codename": shown.group(1)})
    assert again.status_code == 302


def test_one_visitor_cannot_lock_out_others_for_long(public_app: Flask,
                                                     initialised: Config) -> None:
    """The issue's attack at the default limits: one visitor makes codenames and
    requests as fast as Haven takes them, then stops; a newcomer gets through
    within a few (simulated) minutes instead of an hour."""
    now = [0.0]
    here = state_of(public_app)
    config = initialised
    here.submissions = TokenBucket(config.submissions_per_hour,
                                   burst=config.submissions_per_hour // 6, clock=lambda: now[0])
    here.codenames = TokenBucket(config.codenames_per_hour,
                                 burst=config.codenames_per_hour // 2, clock=lambda: now[0])
    attacker = public_app.test_client()
    made = sent = 0
    while True:
        page = attacker.get("/start").get_data(as_text=True)
        shown, token = CODENAME.search(page), CSRF.search(page)
        assert shown
        assert token
        if attacker.post("/start", data={"csrf_token": token.group(1), "shown": shown.group(1),
                                         "codename": shown.group(1)}).status_code != 302:
            break
        made += 1
        while submit(attacker).status_code == 302:
            sent += 1
    assert made == config.codenames_per_hour // 2
    # Together the codenames emptied the burst (each may send five a day).
    assert sent == min(made * config.requests_per_codename_per_day,
                       config.submissions_per_hour // 6)
    newcomer = public_app.test_client()
    now[0] = 180.0  # three minutes: the next codename token (one per 3 min at 20 an hour)
    new_account(newcomer)
    submitted_id(newcomer)


def test_login_messages(client: FlaskClient) -> None:
    malformed = login(client, "abacus abdomen abdominal")  # list words, too few
    assert malformed.status_code == 400
    assert "not a valid codename" in malformed.get_data(as_text=True)
    misspelt = login(client, "not a codename at all")
    assert misspelt.status_code == 400
    assert "are not Haven&#39;s words" in misspelt.get_data(as_text=True)
    unknown = login(client, "abacus abdomen abdominal abide abiding ability ablaze")
    assert unknown.status_code == 400
    text = unknown.get_data(as_text=True)
    assert "did not open an account" in text
    assert "abdominal" not in text


def test_busy_key_derivation_is_a_polite_429(public_app: Flask) -> None:
    gate = KdfGate(concurrency=1)
    here = state_of(public_app)
    here.runtime = Runtime(here.database, gate)
    client = public_app.test_client()
    with gate.slot():
        response = login(client, "abacus abdomen abdominal abide abiding ability ablaze")
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "5"
    page = response.get_data(as_text=True)
    assert "wait a minute" in page
    assert "abdominal" not in page  # the codename is a secret: never sent back


def test_close_then_no_more_replies(client: FlaskClient) -> None:
    new_account(client)
    public_id = submitted_id(client)
    client.post(f"/requests/{public_id}/close",
                data={"csrf_token": csrf(client, f"/requests/{public_id}")})
    page = client.get(f"/requests/{public_id}").get_data(as_text=True)
    assert "Closed" in page
    assert "Seal and send" not in page
    response = reply(client, public_id, "after closing")
    assert response.status_code == 400
    assert "closed" in response.get_data(as_text=True)


def test_delete_request_removes_rows(client: FlaskClient, initialised: Config) -> None:
    new_account(client)
    public_id = submitted_id(client)
    reply(client, public_id, "to be deleted")
    assert client.get(f"/requests/{public_id}/delete").status_code == 200
    client.post(f"/requests/{public_id}/delete",
                data={"csrf_token": csrf(client, f"/requests/{public_id}/delete")})
    assert client.get(f"/requests/{public_id}").status_code == 404
    conn = Database(initialised).open()
    for table in ("requests", "request_bodies", "request_readers", "messages",
                  "message_bodies", "message_readers", "request_skills"):
        assert conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0] == 0, table  # noqa: S608
    conn.close()


def test_delete_account_removes_everything(client: FlaskClient, initialised: Config) -> None:
    codename = new_account(client)
    submitted_id(client)
    client.post("/account/delete", data={"csrf_token": csrf(client, "/account/delete")})
    assert client.get("/requests").status_code == 302
    conn = Database(initialised).open()
    for table in ("requesters", "requests", "request_bodies", "request_readers"):
        assert conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0] == 0, table  # noqa: S608
    conn.close()
    assert "did not open an account" in login(client, codename).get_data(as_text=True)


def test_matched_volunteers_can_read_at_submission(client: FlaskClient,
                                                   initialised: Config) -> None:
    conn = Database(initialised).open()
    _, lawyer = add_volunteer(conn, "lawyer", ["legal"], ["fa"])
    _, painter = add_volunteer(conn, "painter", ["art"], ["fa"])
    _, away = add_volunteer(conn, "away", ["legal"], ["fa"], available=False)
    conn.close()
    new_account(client)
    public_id = submitted_id(client, story=MARKERS["story"])
    assert "1 volunteer can read it" in client.get("/requests").get_data(as_text=True)
    request_id = _request_id(initialised, public_id)
    conn = Database(initialised).open()
    assert sealing.open_request(conn, request_id, public_id, lawyer).story == MARKERS["story"]
    for outsider in (painter, away):
        with pytest.raises(Exception, match="not a reader"):
            sealing.open_request(conn, request_id, public_id, outsider)
    conn.close()


def test_login_adds_newly_matching_volunteers(public_app: Flask, initialised: Config) -> None:
    client = public_app.test_client()
    codename = new_account(client)
    public_id = submitted_id(client, story=MARKERS["story"])
    reply(client, public_id, MARKERS["reply"])
    logout(client)
    conn = Database(initialised).open()
    volunteer_id, key = add_volunteer(conn, "late", ["press"], ["en"])
    conn.close()
    login(client, codename)
    assert "1 volunteer can read it" in client.get("/requests").get_data(as_text=True)
    request_id = _request_id(initialised, public_id)
    conn = Database(initialised).open()
    assert sealing.open_request(conn, request_id, public_id, key).story == MARKERS["story"]
    thread = sealing.open_thread(conn, request_id, key)
    assert [m.text for m in thread] == [MARKERS["reply"]]
    conn.close()
    assert volunteer_id


def test_logout_forgets_the_session(public_app: Flask) -> None:
    client = public_app.test_client()
    new_account(client)
    cookie = client.get_cookie("haven_public")
    assert cookie is not None
    logout(client)
    replay = public_app.test_client()
    replay.set_cookie("haven_public", cookie.value)
    assert replay.get("/requests").status_code == 302


def test_restart_logs_everyone_out(public_app: Flask, initialised: Config) -> None:
    from onion_app import create_app

    client = public_app.test_client()
    new_account(client)
    cookie = client.get_cookie("haven_public")
    assert cookie is not None
    fixed = initialised.with_changes(secret_key=b"k" * 32)
    first = create_app("public", fixed).test_client()
    new_account(first)
    carried = first.get_cookie("haven_public")
    assert carried is not None
    restarted = create_app("public", fixed).test_client()
    restarted.set_cookie("haven_public", carried.value)
    assert restarted.get("/requests").status_code == 302


def test_a_session_ending_mid_story_loses_nothing(public_app: Flask) -> None:
    from onion_app.web import auth

    client = public_app.test_client()
    new_account(client)
    token = csrf(client, "/requests/new")
    with public_app.test_request_context():
        auth.store().clear()  # the idle timeout passed while they wrote
    story = "A long story written slowly over a bad circuit. " * 20
    data = request_fields(story=story)
    data["csrf_token"] = token
    response = client.post("/requests/new", data=data)
    assert response.status_code == 401
    page = response.get_data(as_text=True)
    assert story.strip() in page
    assert 'href="/login"' in page
    check_markup(page)


def test_a_file_where_text_belongs_is_refused(client: FlaskClient) -> None:
    import io

    # A view that takes no files takes no multipart body either (web.content_types).
    for path in ("/login", "/start"):
        response = client.post(path, data={"csrf_token": csrf(client, "/login"),
                                           "codename": (io.BytesIO(b"x"), "a.txt")},
                               content_type="multipart/form-data")
        assert response.status_code == 415, path


def test_start_sent_twice_logs_in_rather_than_failing(client: FlaskClient) -> None:
    page = client.get("/start").get_data(as_text=True)
    shown = CODENAME.search(page)
    token = CSRF.search(page)
    assert shown
    assert token
    form = {"csrf_token": token.group(1), "shown": shown.group(1), "codename": shown.group(1)}
    cookie = client.get_cookie("haven_public")
    assert cookie is not None
    assert client.post("/start", data=form).status_code == 302
    client.set_cookie("haven_public", cookie.value)  # the second click carries the old cookie
    again = client.post("/start", data=form)
    assert again.status_code == 302
    assert client.get("/requests").status_code == 200


def test_requests_sealed_to_the_account_key_keep_opening(public_app: Flask,
                                                         initialised: Config) -> None:
    # Before per-request keys every request was sealed to the account key and
    # recorded no key of its own; such rows must read, answer and re-match as before.
    client = public_app.test_client()
    codename = new_account(client)
    new_id = submitted_id(client, title="NEW-TITLE")
    logout(client)
    conn = Database(initialised).open()
    keys = requester_keys.derive(lambda: conn, initialised, codename, KdfGate(1))
    found = rows.find_requester(conn, keys.lookup_id)
    assert found is not None
    legacy_id = rows.new_public_id()
    text = sealing.RequestText(MARKERS["title"], MARKERS["story"], MARKERS["help"])
    envelope = seal(text.encode(), [keys.public_key], sealing.request_ad(legacy_id),
                    max_size=sealing.REQUEST_MAX_SIZE)
    request_id = rows.create_request(
        conn, requester_id=found.id, public_id=legacy_id, urgency="normal", region="unsaid",
        skills={"press"}, languages={"en"}, body=envelope.body,
        readers=[rows.Reader(fp, None, s) for fp, s in envelope.stanzas.items()])
    _, late = add_volunteer(conn, "late", ["press"], ["en"])  # commits
    conn.close()

    assert login(client, codename).status_code == 302
    listing = client.get("/requests").get_data(as_text=True)
    assert MARKERS["title"] in listing
    assert "NEW-TITLE" in listing
    assert MARKERS["story"] in client.get(f"/requests/{legacy_id}").get_data(as_text=True)
    assert reply(client, legacy_id, MARKERS["reply"]).status_code == 302
    assert reply(client, new_id, "TO THE NEW ONE").status_code == 302
    conn = Database(initialised).open()
    # Login shared the old request with the new volunteer using the account key.
    assert sealing.open_request(conn, request_id, legacy_id, late).story == MARKERS["story"]
    assert [m.text for m in sealing.open_thread(conn, request_id, late)] == [MARKERS["reply"]]
    conn.close()


def test_a_long_thread_comes_in_pages_of_bounded_weight(public_app: Flask) -> None:
    """A request and 25 replies of the largest size weighed 1.4 MB on one
    page, which waitress spooled to disk while a slow client read it."""
    client = public_app.test_client()
    new_account(client)
    public_id = submitted_id(client, title=HEAVY * TITLE_MAX, story=HEAVY * STORY_MAX,
                             help=HEAVY * HELP_MAX)
    heaviest_thread(client, public_id, 25)
    pages = thread_pages(client, f"/requests/{public_id}")
    assert len(pages) == 3
    assert "Messages 1 to 10 of 25" in pages[0]
    assert "Messages 21 to 25 of 25" in pages[2]
    for n in range(25):
        assert sum(f"reply {n:02d} " in page for page in pages) == 1
    assert "reply 00 " in pages[0]
    assert "reply 24 " in pages[2]
    past_the_end = client.get(f"/requests/{public_id}?page=99").get_data(as_text=True)
    assert "Messages 21 to 25 of 25" in past_the_end
    assert "Messages 21 to 25 of 25" in client.get(
        f"/requests/{public_id}?page=nine").get_data(as_text=True)


@pytest.mark.parametrize("purged_by", ["the server's purge", "another process"])
def test_a_purged_requesters_session_never_acts_on_a_newer_account(
        public_app: Flask, runtime: Runtime, initialised: Config, purged_by: str) -> None:
    stale = public_app.test_client()
    new_account(stale)
    token = csrf(stale, "/requests/new")
    # The same session in a second tab, to try a second action with it.
    cookie = stale.get_cookie("haven_public")
    assert cookie is not None
    tab = public_app.test_client()
    tab.set_cookie("haven_public", cookie.value)
    conn = Database(initialised).open()
    conn.execute("UPDATE requesters SET created_on = '2020-01-01'")
    conn.commit()
    if purged_by == "another process":
        # The `purge` command runs in its own process: it cannot reach this
        # app's sessions, so the session itself must notice.
        retention.purge(conn, initialised.retention_days)
    else:
        purge_now(runtime)
        # The server's own purge ends the session outright, through the Runtime.
        assert len(state_of(public_app).sessions) == 0
    assert conn.execute("SELECT count(*) FROM requesters").fetchone()[0] == 0
    newcomer = public_app.test_client()
    new_account(newcomer)
    theirs = submitted_id(newcomer, title="NEWCOMERS-OWN")
    planted = stale.post("/requests/new", data={**request_fields(title="PLANTED"),
                                                "csrf_token": token})
    assert planted.status_code == 401
    deleted = tab.post(f"/requests/{theirs}/delete", data={"csrf_token": token})
    assert deleted.status_code == 401
    assert conn.execute("SELECT count(*) FROM requests").fetchone()[0] == 1
    conn.close()
    listing = newcomer.get("/requests").get_data(as_text=True)
    assert theirs in listing
    assert "PLANTED" not in listing


def _tabs(public_app: Flask, client: FlaskClient, count: int) -> list[FlaskClient]:
    """``count`` more clients holding ``client``'s session, as tabs of one browser."""
    cookie = client.get_cookie("haven_public")
    assert cookie is not None
    tabs = []
    for _ in range(count):
        tab = public_app.test_client()
        tab.set_cookie("haven_public", cookie.value)
        tabs.append(tab)
    return tabs


def _at_once(count: int, action: Callable[[int], int]) -> list[int]:
    """Runs ``action(i)`` in ``count`` real threads released together."""
    start = threading.Barrier(count)
    results: list[int] = [0] * count

    def run(number: int) -> None:
        start.wait()
        results[number] = action(number)

    threads = [threading.Thread(target=run, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results


def test_concurrent_submissions_cannot_pass_the_open_requests_cap(
        public_app: Flask, initialised: Config) -> None:
    client = public_app.test_client()
    new_account(client)
    token = csrf(client, "/requests/new")
    tabs = _tabs(public_app, client, 12)
    statuses = _at_once(12, lambda n: tabs[n].post("/requests/new", data={
        **request_fields(title=f"at once {n}"), "csrf_token": token}).status_code)
    cap = initialised.open_requests_per_requester
    assert sorted(statuses) == [302] * cap + [429] * (12 - cap)
    conn = Database(initialised).open()
    assert conn.execute("SELECT count(*) FROM requests").fetchone()[0] == cap
    conn.close()


def test_concurrent_replies_cannot_pass_the_daily_cap(public_app: Flask,
                                                      initialised: Config) -> None:
    client = public_app.test_client()
    new_account(client)
    public_id = submitted_id(client)
    cap = initialised.messages_per_requester_per_day
    for number in range(cap - 6):
        assert reply(client, public_id, f"message {number}").status_code == 302
    token = csrf(client, f"/requests/{public_id}")
    tabs = _tabs(public_app, client, 12)
    statuses = _at_once(12, lambda n: tabs[n].post(f"/requests/{public_id}/reply", data={
        "csrf_token": token, "text": f"at once {n}"}).status_code)
    assert sorted(statuses) == [302] * 6 + [429] * 6
    conn = Database(initialised).open()
    assert conn.execute("SELECT count(*) FROM messages WHERE from_requester = 1"
                        ).fetchone()[0] == cap
    conn.close()


def test_deleting_a_request_does_not_give_back_the_days_messages(
        public_app: Flask, initialised: Config) -> None:
    client = public_app.test_client()
    new_account(client)
    public_id = submitted_id(client)
    for number in range(initialised.messages_per_requester_per_day):
        assert reply(client, public_id, f"message {number}").status_code == 302
    deleted = client.post(f"/requests/{public_id}/delete",
                          data={"csrf_token": csrf(client, f"/requests/{public_id}/delete")})
    assert deleted.status_code == 302
    fresh = submitted_id(client)
    response = reply(client, fresh, "one too many")
    assert response.status_code == 429
    assert "one too many" in response.get_data(as_text=True)


def test_a_database_held_by_another_writer_keeps_what_was_typed(
        public_app: Flask, initialised: Config, monkeypatch: pytest.MonkeyPatch) -> None:
    client = public_app.test_client()
    new_account(client)
    public_id = submitted_id(client)
    token = csrf(client, f"/requests/{public_id}")  # the pages are read before the lock
    monkeypatch.setattr(connection, "BUSY_TIMEOUT_MS", 50)
    other = Database(initialised).open()
    other.execute("BEGIN IMMEDIATE")
    try:
        refused = client.post("/requests/new", data={
            **request_fields(story="a story typed while Haven was busy"), "csrf_token": token})
        answered = client.post(f"/requests/{public_id}/reply", data={
            "csrf_token": token, "text": "a reply typed while Haven was busy"})
    finally:
        other.rollback()
        other.close()
    for response, typed in ((refused, "a story typed while Haven was busy"),
                            (answered, "a reply typed while Haven was busy")):
        assert response.status_code == 429
        page = response.get_data(as_text=True)
        assert "Haven is very busy right now" in page
        assert typed in page


def test_the_list_of_requests_is_paged(initialised: Config, runtime: Runtime) -> None:
    from onion_app import create_app
    from onion_app.web.paging import LIST_PAGE_SIZE

    # One codename sends more than a day's (and a burst's) worth here: limits raised.
    config = initialised.with_changes(open_requests_per_requester=LIST_PAGE_SIZE + 5,
                                      requests_per_codename_per_day=LIST_PAGE_SIZE + 5,
                                      submissions_per_hour=6 * (LIST_PAGE_SIZE + 5))
    client = create_app("public", config, runtime).test_client()
    new_account(client)
    for number in range(LIST_PAGE_SIZE + 3):
        submitted_id(client, title=f"Title number {number}.")
    first = client.get("/requests").get_data(as_text=True)
    assert first.count("Title number") == LIST_PAGE_SIZE
    assert f"Title number {LIST_PAGE_SIZE + 2}." in first  # newest first
    assert "Title number 0." not in first
    assert "/requests?page=2" in first
    second = client.get("/requests?page=2").get_data(as_text=True)
    assert second.count("Title number") == 3
    assert "Title number 0." in second
    assert "/requests?page=1" in second
    # Past the end: the last page, not an empty one.
    assert client.get("/requests?page=9").get_data(as_text=True).count("Title number") == 3


def test_a_sessions_request_keys_are_derived_once_and_bounded(
        client: FlaskClient, monkeypatch: pytest.MonkeyPatch) -> None:
    from onion_app.requester import views

    codename = new_account(client)
    for number in range(3):
        submit(client, title=f"Title {number}")
    derived: list[str] = []
    real = requester_keys.request_key

    def counted(keys: object, public_id: str, version: int | None) -> object:
        derived.append(public_id)
        return real(keys, public_id, version)  # type: ignore[arg-type]

    monkeypatch.setattr(requester_keys, "request_key", counted)
    for _ in range(2):
        listing = client.get("/requests").get_data(as_text=True)
        assert all(f"Title {number}" in listing for number in range(3))
    assert len(derived) == 3  # the second view reused the first view's keys
    logout(client)
    login(client, codename)
    monkeypatch.setattr(views, "REQUEST_KEYS_KEPT", 2)
    client.get("/requests")
    assert len(derived) == 6  # a new session derives again
    client.get("/requests")
    assert len(derived) == 9  # three keys, two kept at most: none survives a view


def _only_session(app: Flask) -> object:
    [found] = list(state_of(app).sessions._sessions.values())
    return found


def test_a_list_keeps_content_keys_with_the_session_and_never_a_title(
        public_app: Flask, client: FlaskClient, monkeypatch: pytest.MonkeyPatch) -> None:
    new_account(client)
    kept_id = submitted_id(client, title=MARKERS["title"])
    gone_id = submitted_id(client, title="Soon deleted")
    listing = client.get("/requests").get_data(as_text=True)
    assert MARKERS["title"] in listing
    assert "Soon deleted" in listing
    me = _only_session(public_app)
    assert set(me.content_keys) == {kept_id, gone_id}  # type: ignore[attr-defined]
    # Shown again from the kept keys: no stanza opened, the same page.
    opened: list[object] = []
    real = sealing.open_keeping_key
    monkeypatch.setattr(sealing, "open_keeping_key",
                        lambda *a, **k: opened.append(a) or real(*a, **k))
    again = client.get("/requests").get_data(as_text=True)
    assert MARKERS["title"] in again
    assert "Soon deleted" in again
    assert opened == []
    # Nothing the session holds is a text the requester wrote.
    held = repr(vars(me)) + "".join(repr(vars(k)) for k in me.content_keys.values())  # type: ignore[attr-defined]
    assert MARKERS["title"] not in held
    assert "Soon deleted" not in held
    # A deleted request's keys go with it.
    client.post(f"/requests/{gone_id}/delete",
                data={"csrf_token": csrf(client, f"/requests/{gone_id}/delete")})
    assert set(me.content_keys) == {kept_id}  # type: ignore[attr-defined]
    assert all(public_id != gone_id for public_id, _ in me.request_keys)  # type: ignore[attr-defined]
