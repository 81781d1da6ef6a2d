"""The operator's database commands: init, upgrade, backup, rekey.

Each failure ends with one plain sentence and a non-zero exit; passphrases are
asked at a prompt, never taken as arguments, so they stay out of shell history.
"""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import with_appcontext

from onion_app.config import current_config
from onion_app.errors import HavenError
from onion_app.store import maintenance, migrations
from onion_app.store.keys import display


def _fail(error: HavenError) -> click.ClickException:
    return click.ClickException(str(error))


def _ask_new_passphrase() -> str:
    passphrase: str = click.prompt(
        "New database passphrase (at least 12 characters)",
        hide_input=True, confirmation_prompt=True,
    )
    if len(passphrase) < 12:
        raise click.ClickException("the passphrase must be at least 12 characters")
    return passphrase


@click.command("init")
@with_appcontext
def init_command() -> None:
    """Create the encrypted database if missing and bring its schema up to date."""
    config = current_config()
    try:
        result = maintenance.init_database(config)
    except HavenError as error:
        raise _fail(error) from None
    what = "created" if result.created else "opened"
    click.echo(f"{what} {display(config.db_path)}; schema version {migrations.latest_version()}")


@click.command("upgrade")
@with_appcontext
def upgrade_command() -> None:
    """Apply the schema migrations this Haven has and the database lacks."""
    config = current_config()
    try:
        conn, _ = maintenance.open_existing(config)
        try:
            applied = migrations.apply_pending(conn)
        finally:
            conn.close()
    except HavenError as error:
        raise _fail(error) from None
    if applied:
        names = ", ".join(m.name for m in applied)
        click.echo(f"applied {names}")
    else:
        click.echo(f"already at schema version {migrations.latest_version()}")


@click.command("backup")
@click.argument("target", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--passphrase", "new_passphrase", is_flag=True,
              help="Encrypt the copy under a new passphrase, asked at the prompt.")
@with_appcontext
def backup_command(target: Path, new_passphrase: bool) -> None:
    """Write an encrypted copy of the database to TARGET.

    The copy opens with the database's key, or with a new passphrase.
    """
    passphrase = _ask_new_passphrase() if new_passphrase else None
    try:
        maintenance.backup(current_config(), target, passphrase)
    except HavenError as error:
        raise _fail(error) from None
    click.echo(f"wrote an encrypted copy to {display(target)}")


@click.command("rekey")
@click.option("--passphrase", "new_passphrase", is_flag=True,
              help="Protect the database with a new passphrase instead of a key file.")
@with_appcontext
def rekey_command(new_passphrase: bool) -> None:
    """Re-encrypt the database under a new key, in place and atomically.

    Stop Haven first: the running server still holds the old key.
    """
    config = current_config()
    passphrase = _ask_new_passphrase() if new_passphrase else None
    try:
        maintenance.rekey(config, passphrase)
    except HavenError as error:
        raise _fail(error) from None
    if passphrase is None:
        click.echo(f"rekeyed; the new key is in {display(config.db_key_path)}")
        if config.db_passphrase is not None:
            click.echo("unset HAVEN_DB_PASSPHRASE: the old passphrase no longer opens it")
    else:
        click.echo("rekeyed; set HAVEN_DB_PASSPHRASE to the new passphrase before starting Haven")


COMMANDS = (init_command, upgrade_command, backup_command, rekey_command)
