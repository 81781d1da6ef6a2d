"""The daily digest end to end: a volunteer opts in on the account page, things
happen on the requester's side, and a real SMTP server on loopback (aiosmtpd,
STARTTLS and a password, HAVEN_SMTP_DIRECT=1) receives the exact bytes.

The clock is injected as ``now`` into :func:`digests.send_due`: a day "with
news" is the day after the request and the replies were made.
"""

from __future__ import annotations

import datetime
import os
import re
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import pytest
from flask import Flask
from flask.testing import FlaskClient

from onion_app.config import Config
from onion_app.domain import digests
from onion_app.serving.commands.notify import notify_daily
from onion_app.store import Database
from onion_app.store import notifications as store
from onion_app.web.state import Runtime
from tests import journey as requester
from tests.conftest import make_config
from tests.haven_cli import HavenCliRunner, cli_runner
from tests.journey import csrf
from tests.smtp_inbox import PASSWORD, USER, Inbox, Received, smtp_inbox
from tests.staff_journey import PASSPHRASE, StepClock, apply, approve, enrol, install_clock

TODAY = datetime.date.today()
TOMORROW = TODAY + datetime.timedelta(days=1)
ADDRESS = "someone@example.net"
HOUR = 9


def at(day: datetime.date, hour: int = HOUR) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(hour))


@pytest.fixture
def inbox(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Inbox]:
    with smtp_inbox(tmp_path) as running:
        # The relay's self-signed certificate is the only CA the client trusts.
        monkeypatch.setenv("SSL_CERT_FILE", str(running.cert_file))
        yield running


def relay_url(port: int, password: str = PASSWORD) -> str:
    return f"smtp://{quote(USER, safe='')}:{quote(password, safe='')}@127.0.0.1:{port}"


@pytest.fixture
def config(tmp_path: Path, inbox: Inbox) -> Config:
    """The conftest fixtures build on this one: a Haven whose relay is ``inbox``."""
    return make_config(tmp_path / "instance", HAVEN_SMTP_URL=relay_url(inbox.port),
                       HAVEN_SMTP_DIRECT="1", HAVEN_NOTIFY_HOUR=str(HOUR))


@dataclass
class Site:
    staff: Flask
    public: Flask
    clock: StepClock
    operator: FlaskClient
    config: Config
    database: Database


@pytest.fixture
def site(staff_app: Flask, public_app: Flask, initialised: Config, runtime: Runtime) -> Site:
    clock = install_clock(staff_app)
    made = cli_runner(staff_app).invoke(args=["operator", "create", "op"],
                                        input=f"{PASSPHRASE}\n{PASSPHRASE}\n")
    assert made.exit_code == 0, made.output
    operator = staff_app.test_client()
    enrol(operator, clock, "op")
    return Site(staff_app, public_app, clock, operator, initialised, runtime.database)


def volunteer(site: Site, handle: str, *, choice: str, key: str = "") -> FlaskClient:
    client = site.staff.test_client()
    assert apply(client, handle, skills=("legal",), languages=("fa",)).status_code == 200
    approve(site.operator, handle)
    enrol(client, site.clock, handle)
    saved = client.post("/account/notifications", data={
        "csrf_token": csrf(client, "/account"), "address": ADDRESS, "choice": choice,
        "pgp_key": key})
    assert saved.status_code == 302, saved.get_data(as_text=True)
    return client


def news_today(site: Site, lawyer: FlaskClient) -> tuple[str, str]:
    """A request sealed to the lawyer, the lawyer's reply and the requester's
    answer, all today. :returns: the request's public id and its title"""
    client = site.public.test_client()
    requester.new_account(client)
    public_id = requester.submitted_id(client, title="TITLE-MARKER", skills=["legal"],
                                       languages=["fa"], story="STORY-MARKER")
    answered = lawyer.post(f"/cases/{public_id}/reply", data={
        "csrf_token": csrf(lawyer, f"/cases/{public_id}"), "text": "VOLUNTEER-REPLY"})
    assert answered.status_code == 302
    assert requester.reply(client, public_id, "REQUESTER-ANSWER").status_code == 302
    return public_id, "TITLE-MARKER"


def send(site: Site, now: datetime.datetime, config: Config | None = None) -> digests.Outcome:
    return digests.send_due(site.database, config or site.config, now)


HEADERS = re.compile(
    rb"From: haven@example\.org\r\n"
    rb"To: someone@example\.net\r\n"
    rb"Subject: Daily note\r\n"
    rb"Date: (?P<date>[A-Z][a-z]{2}, \d\d [A-Z][a-z]{2} \d{4}) 00:00:00 \+0000\r\n"
    rb"Message-ID: <[0-9a-f]{32}@localhost>\r\n"
    rb"MIME-Version: 1\.0\r\n"
    rb"Content-Type: text/plain; charset=us-ascii\r\n"
    rb"Content-Transfer-Encoding: 7bit\r\n"
    rb"\r\n")

DAILY_BODY = (b"This is your daily note from the people you volunteer with. It reads the\r\n"
              b"same every day, whether or not anything is new. Sign in to see what is\r\n"
              b"waiting for you.\r\n")
NEWS_BODY = b"There is something new for you. Sign in to see it.\r\n"


def body_of(message: Received, day: datetime.date) -> bytes:
    found = HEADERS.match(message.data)
    assert found, message.data[:400]
    assert found["date"] == day.strftime("%a, %d %b %Y").encode()
    return message.data[found.end():]


def assert_says_nothing(text: str, public_id: str, site: Site) -> None:
    """No title, story, skill, language, handle, id or link in what anyone
    reads: the message, or what its encrypted body opens to."""
    with Database(site.config).connect() as conn:
        volunteer_ids = [row[0] for row in conn.execute("SELECT public_id FROM volunteers")]
    for secret in ("TITLE-MARKER", "STORY-MARKER", "VOLUNTEER-REPLY", "REQUESTER-ANSWER",
                   public_id, *volunteer_ids, "lawyer", "legal", "Legal", "Persian",
                   "http", ".onion", "/cases"):
        assert secret not in text, secret
    # The language code as a word: the random hex of a Message-ID may hold "fa".
    assert not re.search(r"\bfa\b", text), text


def test_every_day_the_same_words_and_the_same_size(site: Site, inbox: Inbox) -> None:
    lawyer = volunteer(site, "lawyer", choice="daily")
    early = send(site, at(TODAY, HOUR - 1))  # before the hour: nothing
    assert early.describe(HOUR) == "digests go out from 09:00 (HAVEN_NOTIFY_HOUR): none due yet"
    quiet = send(site, at(TODAY))
    assert (quiet.sent, quiet.failures) == (1, [])
    public_id, _title = news_today(site, lawyer)
    busy = send(site, at(TOMORROW))
    assert (busy.sent, busy.failures) == (1, [])
    assert send(site, at(TOMORROW, 23)).sent == 0  # once a day, whatever the hour

    without, with_news = inbox.messages
    assert (without.sender, without.recipients) == (USER, (ADDRESS,))
    assert body_of(without, TODAY) == DAILY_BODY
    assert body_of(with_news, TOMORROW) == DAILY_BODY
    assert len(without.data) == len(with_news.data)
    assert_says_nothing(with_news.data.decode("ascii"), public_id, site)
    with Database(site.config).connect() as conn:
        (sent_on,), = conn.execute("SELECT sent_on FROM volunteer_notifications")
    assert sent_on == TOMORROW.isoformat()  # a day, no time


def test_only_on_days_with_news(site: Site, inbox: Inbox) -> None:
    lawyer = volunteer(site, "lawyer", choice="news")
    quiet = send(site, at(TODAY))
    assert (quiet.sent, quiet.quiet) == (0, 1)
    assert inbox.messages == []
    public_id, _title = news_today(site, lawyer)
    assert send(site, at(TOMORROW)).sent == 1
    assert send(site, at(TOMORROW + datetime.timedelta(days=1))).sent == 0  # counted once
    (message,) = inbox.messages
    assert body_of(message, TOMORROW) == NEWS_BODY
    assert_says_nothing(message.data.decode("ascii"), public_id, site)


def test_a_failed_delivery_is_tried_the_next_day_with_both_days(site: Site,
                                                                inbox: Inbox) -> None:
    lawyer = volunteer(site, "lawyer", choice="news")
    news_today(site, lawyer)
    refused = send(site, at(TOMORROW),
                   site.config.with_changes(smtp_url=relay_url(inbox.port, "wrong password")))
    assert refused.sent == 0
    assert inbox.refused_logins == 1
    (reason,) = refused.failures
    assert "refused the user name or password" in reason
    assert "wrong" not in reason
    assert ADDRESS not in reason
    assert send(site, at(TOMORROW, 22)).sent == 0  # the failure waits for tomorrow
    assert send(site, at(TOMORROW + datetime.timedelta(days=1))).sent == 1
    assert len(inbox.messages) == 1


def test_the_notify_command_sends_what_is_due(site: Site, inbox: Inbox) -> None:
    volunteer(site, "lawyer", choice="daily")
    # From midnight, so that whenever this runs the digest is due.
    runner = HavenCliRunner(Runtime.for_config(site.config.with_changes(notify_hour=0)))
    result = runner.invoke(args=["notify"])
    assert result.exit_code == 0, result.output
    assert result.output == "digests sent: 1; nothing new for: 0\n"
    assert len(inbox.messages) == 1
    again = runner.invoke(args=["notify"])
    assert again.output == "digests sent: 0; nothing new for: 0\n"
    assert len(inbox.messages) == 1


def test_the_server_sends_on_its_own_schedule(site: Site, inbox: Inbox) -> None:
    volunteer(site, "lawyer", choice="daily")
    here = Runtime.for_config(site.config.with_changes(notify_hour=0))
    stop = threading.Event()
    schedule = threading.Thread(target=notify_daily, args=(here, stop), kwargs={"every": 0.05})
    schedule.start()
    try:
        for _ in range(1200):  # bounded: a minute at most
            if inbox.messages:
                break
            time.sleep(0.05)
    finally:
        stop.set()
        schedule.join(timeout=60)
    assert not schedule.is_alive()
    assert len(inbox.messages) == 1


def test_without_a_relay_nothing_is_sent(tmp_path: Path, template_database: Path) -> None:
    config = make_config(tmp_path / "bare")
    outcome = digests.send_due(Database(config), config, at(TODAY, 23))
    assert outcome.relay is False
    assert outcome.describe(config.notify_hour) == \
        "no mail relay is set (HAVEN_SMTP_URL): nothing sent"


# --- OpenPGP ---------------------------------------------------------------

@pytest.fixture
def gpg_home(tmp_path: Path) -> Iterator[Path]:
    """A volunteer's own GnuPG, with a test key (ed25519/cv25519: cheap to make)."""
    home = tmp_path / "gnupg"
    home.mkdir(mode=0o700)
    subprocess.run(["gpg", "--homedir", str(home), "--batch", "--passphrase", "",
                    "--quick-gen-key", "Volunteer <someone@example.net>", "future-default",
                    "default", "never"], check=True, capture_output=True)
    try:
        yield home
    finally:
        subprocess.run(["gpgconf", "--homedir", str(home), "--kill", "all"],
                       check=False, capture_output=True)


def public_key(home: Path) -> str:
    return subprocess.run(["gpg", "--homedir", str(home), "--armor", "--export"],
                          check=True, capture_output=True, text=True).stdout


def decrypt(home: Path, armored: bytes) -> str:
    opened = subprocess.run(["gpg", "--homedir", str(home), "--batch", "--decrypt"],
                            input=armored, check=True, capture_output=True,
                            env={**os.environ, "LC_ALL": "C"})
    return opened.stdout.decode("ascii")


def test_an_encrypted_digest_opens_with_the_volunteers_key(site: Site, inbox: Inbox,
                                                           gpg_home: Path) -> None:
    lawyer = volunteer(site, "lawyer", choice="daily", key=public_key(gpg_home))
    assert send(site, at(TODAY)).sent == 1
    public_id, _title = news_today(site, lawyer)
    assert send(site, at(TOMORROW)).sent == 1
    without, with_news = inbox.messages
    assert len(without.data) == len(with_news.data)
    armored = body_of(with_news, TOMORROW)
    assert armored.startswith(b"-----BEGIN PGP MESSAGE-----\r\n")
    assert armored.endswith(b"-----END PGP MESSAGE-----\r\n")
    opened = decrypt(gpg_home, armored)
    headers = with_news.data[:-len(armored)].decode("ascii")
    assert_says_nothing(headers + opened, public_id, site)
    # "Every day, the same words": the same words inside the encryption too.
    assert opened == decrypt(gpg_home, body_of(without, TODAY))
    assert opened.startswith("This is your daily note")


def test_an_encrypted_news_digest_gives_counts_and_nothing_else(site: Site, inbox: Inbox,
                                                                 gpg_home: Path) -> None:
    lawyer = volunteer(site, "lawyer", choice="news", key=public_key(gpg_home))
    assert send(site, at(TODAY)).sent == 0  # a digest covers the days before today
    public_id, _title = news_today(site, lawyer)
    assert send(site, at(TOMORROW)).sent == 1
    (with_news,) = inbox.messages
    armored = body_of(with_news, TOMORROW)
    opened = decrypt(gpg_home, armored)
    headers = with_news.data[:-len(armored)].decode("ascii")
    assert_says_nothing(headers + opened, public_id, site)
    assert opened == (
        "New requests for you:        1\r\n"
        "New replies:                 1\r\n"  # the requester's answer, not the lawyer's own
        "Decisions on your account:   1\r\n"  # approved today too
        "Sign in to see them.\r\n")


def test_a_stored_key_is_the_public_part_only(site: Site, gpg_home: Path) -> None:
    volunteer(site, "lawyer", choice="news", key=public_key(gpg_home))
    with Database(site.config).connect() as conn:
        (subscription,) = [store.subscription(conn, row[0]) for row in conn.execute(
            "SELECT volunteer_id FROM volunteer_notifications")]
    assert subscription is not None
    assert subscription.pgp_key is not None
    assert "PUBLIC KEY BLOCK" in subscription.pgp_key
    assert "PRIVATE" not in subscription.pgp_key
