"""The daily digest: a mail that tells a volunteer to sign in, and nothing else.

Each volunteer who opts in chooses:

- ``daily``: one message every day, whatever happened; the subject and the
  words the mailbox can read never change;
- ``news``: a message only on days with something new; the subject never
  changes and the readable body says only that something is new.

Never a title, skill, language, requester handle, or a link with an id. With
an OpenPGP key the body is encrypted and gives counts (new requests sealed to
them, new replies, a decision on their application) in fixed-width figures,
uncompressed, so every message of one volunteer has the same size.

A digest covers whole days: from the day after the last one a sent digest
covered, up to yesterday. A failed delivery leaves those days uncounted, so
the next day's digest carries them. Only days are stored.
"""

from __future__ import annotations

import datetime
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field

from onion_app.config import Config, Relay
from onion_app.domain import mail_relay, openpgp
from onion_app.errors import HavenError
from onion_app.store import Database
from onion_app.store import notifications as store
from onion_app.store.notifications import News, Subscription
from tor_config.socks import SocksAddress

__all__ = ["SUBJECT", "Outcome", "body", "compose", "first_uncounted_day", "send_due"]

SUBJECT = "Daily note"
DAILY_WORDS = ("This is your daily note from the people you volunteer with. It reads the "
               "same every day, whether or not anything is new. Sign in to see what is "
               "waiting for you.")
NEWS_WORDS = "There is something new for you. Sign in to see it."
# Counts are shown up to this and written in a fixed width.
_MOST = 999

Send = Callable[[Relay, SocksAddress | None, str, bytes], None]


@dataclass
class Outcome:
    """What one run did: counts, and failures as sentences (no addresses)."""

    due: bool = True
    relay: bool = True
    sent: int = 0
    quiet: int = 0
    failures: list[str] = field(default_factory=list)

    def describe(self, hour: int) -> str:
        if not self.relay:
            return "no mail relay is set (HAVEN_SMTP_URL): nothing sent"
        if not self.due:
            return f"digests go out from {hour:02d}:00 (HAVEN_NOTIFY_HOUR): none due yet"
        text = f"digests sent: {self.sent}; nothing new for: {self.quiet}"
        if self.failures:
            text += (f"; failed, retried tomorrow: {len(self.failures)} "
                     f"({'; '.join(sorted(set(self.failures)))})")
        return text


def _count(number: int) -> str:
    return f"{min(number, _MOST):>3}"


def _counts(news: News) -> str:
    # Fixed-width figures: "  0" and "999" take the same room, so the length
    # of the ciphertext is the same whatever they say.
    return ("\r\n".join((
        f"New requests for you:      {_count(news.requests)}",
        f"New replies:               {_count(news.replies)}",
        f"Decisions on your account: {_count(news.decisions)}",
        "Sign in to see them.",
    )) + "\r\n")


def body(subscription: Subscription, news: News) -> str:
    """The body of one digest (CRLF lines), encrypted when there is a key.

    :raises UnusableKey: if the stored key no longer encrypts (expired)
    """
    if subscription.pgp_key is not None:
        # "Every day, the same words" means the same words inside the
        # encryption too: counts would make a day with news differ from one
        # without to anyone who can open the mail (issue 13, item 5).
        plain = _counts(news) if subscription.choice == "news" else _wrap(DAILY_WORDS)
        armored = openpgp.encrypt(subscription.pgp_key, plain)
        return armored.replace("\r\n", "\n").replace("\n", "\r\n")
    words = DAILY_WORDS if subscription.choice == "daily" else NEWS_WORDS
    return _wrap(words)


def _wrap(text: str, width: int = 72) -> str:
    lines: list[str] = []
    for word in text.split():
        if lines and len(lines[-1]) + 1 + len(word) <= width:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return "\r\n".join(lines) + "\r\n"


def compose(relay: Relay, subscription: Subscription, news: News, today: datetime.date,
            message_id: str | None = None) -> bytes:
    """One complete message, headers and body, as the relay receives it.

    The Date header is the day at midnight UTC: the day is known to whoever
    handles the mail anyway, the hour and the server's time zone are not.
    The Message-ID is random, of fixed length.
    """
    token = message_id or secrets.token_hex(16)
    date = datetime.datetime.combine(today, datetime.time(0), datetime.UTC)
    headers = (
        f"From: {relay.sender}",
        f"To: {subscription.address}",
        f"Subject: {SUBJECT}",
        f"Date: {date.strftime('%a, %d %b %Y %H:%M:%S')} +0000",
        f"Message-ID: <{token}@localhost>",
        "MIME-Version: 1.0",
        "Content-Type: text/plain; charset=us-ascii",
        "Content-Transfer-Encoding: 7bit",
    )
    return ("\r\n".join(headers) + "\r\n\r\n" + body(subscription, news)).encode("ascii")


def send_due(database: Database, config: Config, now: datetime.datetime,
             send: Send = mail_relay.send) -> Outcome:
    """Sends every digest due at ``now`` (server time): at or after
    ``HAVEN_NOTIFY_HOUR``, to each volunteer not yet tried today.

    Each volunteer is claimed (today's date written) before their message is
    sent, so two runs at once never send twice, and a failure waits for
    tomorrow rather than retrying through the day.
    """
    relay = config.relay
    if relay is None:
        return Outcome(relay=False)
    if now.hour < config.notify_hour:
        return Outcome(due=False)
    listener = mail_relay.listener_for(config)
    today = now.date()
    day, yesterday = today.isoformat(), (today - datetime.timedelta(days=1)).isoformat()
    outcome = Outcome()
    with database.connect() as conn:
        waiting = store.waiting(conn, day)
    for subscription in waiting:
        with database.connect() as conn:
            if not store.claim(conn, subscription.volunteer_id, day):
                continue  # another run has it
            news = store.news(conn, subscription.volunteer_id, subscription.counted_through,
                              day)
            if subscription.choice == "news" and not news.any:
                store.mark_counted(conn, subscription.volunteer_id, yesterday)
                outcome.quiet += 1
            conn.commit()
        if subscription.choice == "news" and not news.any:
            continue
        try:
            send(relay, listener, subscription.address,
                 compose(relay, subscription, news, today))
        except HavenError as error:  # the relay, an expired key, a missing gpg: tomorrow
            outcome.failures.append(str(error))
            continue
        with database.connect() as conn:
            store.mark_sent(conn, subscription.volunteer_id, day, yesterday)
            conn.commit()
        outcome.sent += 1
    return outcome


def first_uncounted_day(today: datetime.date) -> str:
    """What a new subscription has counted through: yesterday, so that the
    digest of tomorrow carries today's news."""
    return (today - datetime.timedelta(days=1)).isoformat()

