"""Operator commands: the first operator, and retention.

The first operator is made here, on the server's command line, never by a
web form open to anyone; the passphrase is asked at the prompt.
"""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from onion_app.config import Config, current_config
from onion_app.errors import HavenError
from onion_app.store import maintenance, oversight, staff
from onion_app.store.connection import Connection
from onion_app.volunteer import accounts

# Past this share of free pages a purge also runs VACUUM, so deleted rows do
# not linger in free pages (secure_delete zeroes them; VACUUM also shrinks).
VACUUM_FREE_FRACTION = 0.25



@click.group("operator")
def operator_group() -> None:
    """Manage operator accounts."""


@operator_group.command("create")
@click.argument("handle")
@with_appcontext
def create_operator(handle: str) -> None:
    """Create an operator account HANDLE (the passphrase is asked at the prompt)."""
    config = current_config()
    try:
        conn, _ = maintenance.open_existing(config)
    except HavenError as error:
        raise click.ClickException(str(error)) from None
    try:
        if staff.handle_taken(conn, handle):
            raise click.ClickException(f"the handle {handle} is taken")
        passphrase: str = click.prompt("Passphrase (at least 12 characters)", hide_input=True,
                                       confirmation_prompt=True)
        problem = accounts.passphrase_problem(passphrase, handle)
        if problem:
            raise click.ClickException(problem)
        keys = accounts.keys_for(passphrase, None, config)
        staff.create_volunteer(conn, staff.Application(
            handle=handle, public_key=keys.public_key, wrapped_key=keys.wrapped_key,
            passphrase_hash=keys.passphrase_hash, skills=frozenset(), languages=frozenset(),
            availability="weekly", bio="Created from the command line.", references=""),
            status="vetted", is_operator=True)
        staff.audit(conn, "cli", "created operator", f"volunteer {handle}")
        conn.commit()
    finally:
        conn.close()
    click.echo(f"operator {handle} created; sign in on the staff onion to set up the "
               "authenticator")


def purge_now(config: Config) -> int:
    """Purges requests untouched for the retention period. :returns: how many"""
    conn, _ = maintenance.open_existing(config)
    try:
        return purge_with(conn, config.retention_days)
    finally:
        conn.close()


def purge_with(conn: Connection, days: int) -> int:
    purged = oversight.purge_untouched(conn, days)
    if purged:
        staff.audit(conn, "system", f"purged {purged} untouched requests")
    conn.commit()
    if oversight.free_fraction(conn) > VACUUM_FREE_FRACTION:
        conn.execute("VACUUM")
    return purged


@click.command("purge")
@with_appcontext
def purge_command() -> None:
    """Delete requests and threads untouched for HAVEN_RETENTION_DAYS days."""
    config = current_config()
    try:
        purged = purge_now(config)
    except HavenError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"purged {purged} request{'s' if purged != 1 else ''} untouched for "
               f"{config.retention_days} days")


COMMANDS = (operator_group, purge_command)
