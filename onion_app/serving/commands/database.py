"""The operator's database commands: init, upgrade, backup, rekey.

Passphrases are asked at a prompt, never taken as arguments, so they stay out
of shell history and process listings.
"""

from __future__ import annotations

from pathlib import Path

import click

from onion_app.serving.commands import runtime
from onion_app.store import maintenance, migrations
from onion_app.store.keys import display


def _ask_new_passphrase() -> str:
    passphrase: str = click.prompt(
        "New database passphrase (at least 12 characters)",
        hide_input=True, confirmation_prompt=True,
    )
    if len(passphrase) < 12:
        raise click.ClickException("the passphrase must be at least 12 characters")
    return passphrase


@click.command("init")
def init_command() -> None:
    """Create the encrypted database if missing and bring its schema up to date."""
    database = runtime().database
    result = database.init()
    what = "created" if result.created else "opened"
    click.echo(f"{what} {display(database.config.db_path)}; "
               f"schema version {migrations.latest_version()}")


@click.command("upgrade")
def upgrade_command() -> None:
    """Apply the schema migrations this Haven has and the database lacks."""
    applied = runtime().database.upgrade()
    if applied:
        click.echo(f"applied {', '.join(m.name for m in applied)}")
    else:
        click.echo(f"already at schema version {migrations.latest_version()}")


@click.command("backup")
@click.argument("target", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--passphrase", "new_passphrase", is_flag=True,
              help="Encrypt the copy under a new passphrase, asked at the prompt.")
def backup_command(target: Path, new_passphrase: bool) -> None:
    """Write an encrypted copy of the database to TARGET.

    The copy opens with the database's key, or with a new passphrase.
    """
    passphrase = _ask_new_passphrase() if new_passphrase else None
    maintenance.backup(runtime().database, target, passphrase)
    click.echo(f"wrote an encrypted copy to {display(target)}")


@click.command("rekey")
@click.option("--passphrase", "new_passphrase", is_flag=True,
              help="Protect the database with a new passphrase instead of a key file.")
def rekey_command(new_passphrase: bool) -> None:
    """Re-encrypt the database under a new key, in place and atomically.

    Stop Haven first: the running server still holds the old key.
    """
    database = runtime().database
    had_passphrase = database.config.db_passphrase is not None
    passphrase = _ask_new_passphrase() if new_passphrase else None
    new_config = maintenance.rekey(database, passphrase)
    if passphrase is None:
        click.echo(f"rekeyed; the new key is in {display(new_config.db_key_path)}")
        if had_passphrase:
            click.echo("unset HAVEN_DB_PASSPHRASE: the old passphrase no longer opens it")
    else:
        click.echo("rekeyed; set HAVEN_DB_PASSPHRASE to the new passphrase before starting Haven")


COMMANDS = (init_command, upgrade_command, backup_command, rekey_command)
