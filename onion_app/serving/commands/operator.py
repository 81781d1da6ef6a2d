"""Operator commands: the first operator, and retention.

The first operator is made here, on the server's command line, never by a
web form open to anyone; the passphrase is asked at the prompt.
"""

from __future__ import annotations

import click

from onion_app.domain import operators, retention
from onion_app.serving.commands import runtime
from onion_app.web.state import Runtime


@click.group("operator")
def operator_group() -> None:
    """Manage operator accounts."""


@operator_group.command("create")
@click.argument("handle")
def create_operator(handle: str) -> None:
    """Create an operator account HANDLE (the passphrase is asked at the prompt)."""
    here = runtime()
    with here.database.connect() as conn:
        handle = operators.check_new_operator(conn, handle)
        passphrase: str = click.prompt("Passphrase (at least 12 characters)", hide_input=True,
                                       confirmation_prompt=True)
        operators.create_operator(conn, handle, passphrase, here.stretching)
    click.echo(f"operator {handle} created; sign in on the staff onion to set up the "
               "authenticator")


def purge_now(here: Runtime) -> int:
    """Purges requests untouched for the retention period, and ends the
    sessions (in this process) of the requesters purged with them.

    :returns: how many requests were purged
    """
    with here.database.connect() as conn:
        purged = retention.purge(conn, here.database.config.retention_days)
    here.sessions.end_accounts("requester", purged.requesters)
    return purged.requests


@click.command("purge")
def purge_command() -> None:
    """Delete requests and threads untouched for HAVEN_RETENTION_DAYS days."""
    here = runtime()
    purged = purge_now(here)
    days = here.database.config.retention_days
    click.echo(f"purged {purged} request{'s' if purged != 1 else ''} untouched for {days} days")


COMMANDS = (operator_group, purge_command)
