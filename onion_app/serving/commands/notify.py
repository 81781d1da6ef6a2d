"""The digest command: send the daily digests that are due now.

The server runs the same thing on schedule (:func:`notify_daily`), in a
thread of its own, so a slow or unreachable relay never holds a page.
"""

from __future__ import annotations

import datetime
import threading

import click

from onion_app.domain import digests
from onion_app.errors import HavenError
from onion_app.serving.commands import runtime
from onion_app.web.state import Runtime

# How often the server's schedule looks whether the hour has come: the hour
# is what matters, so a few minutes late is on time.
CHECK_EVERY_SECONDS = 300


def notify_now(here: Runtime) -> digests.Outcome:
    """Sends the digests due now, by the server's clock."""
    return digests.send_due(here.database, here.config, datetime.datetime.now())


@click.command("notify")
def notify_command() -> None:
    """Send the email digests due now (from HAVEN_NOTIFY_HOUR, once a day).

    Mail goes through Haven's tor unless HAVEN_SMTP_DIRECT=1, so Haven must be
    running; what cannot be delivered is tried again the next day.
    """
    here = runtime()
    click.echo(notify_now(here).describe(here.config.notify_hour))


def notify_daily(here: Runtime, stop: threading.Event,
                 every: float = CHECK_EVERY_SECONDS) -> None:
    """The server's schedule: every few minutes, send what is due (nothing
    before the hour, and each volunteer at most once a day), until ``stop``."""
    if here.config.smtp_url is None:
        return
    while not stop.wait(every):
        try:
            outcome = notify_now(here)
        except HavenError as error:  # a full disk, a held lock: tried again shortly
            click.echo(f"digests: {error}", err=True)
            continue
        if outcome.sent or outcome.failures:
            click.echo(outcome.describe(here.config.notify_hour), err=bool(outcome.failures))


COMMANDS = (notify_command,)
