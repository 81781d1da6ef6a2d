"""The operator's onion commands: staff keys, rotation, status, torrc.

They change the database; a running Haven picks the change up at once
(the command sends it SIGHUP), otherwise at its next start. Private keys
for staff devices are printed once and never stored.
"""

from __future__ import annotations

import os
import signal
from pathlib import Path

import click

from onion_app.config import Config
from onion_app.domain import staff_keys
from onion_app.serving.commands import runtime
from onion_app.serving.onions import ROLES, build_specs, read_status
from onion_app.serving.running import running_pid
from onion_app.store import onion_keys
from tor_config.errors import TorConfigError
from tor_config.keys import onion_address, service_id_from_key
from tor_config.status import describe
from tor_config.torrc import DEFAULT_SERVICE_ROOT, render_torrc


def tell_running_haven(config: Config) -> str:
    """Sends a running Haven SIGHUP so it applies a change now.

    :returns: a sentence saying whether the change applies now or at the next start
    """
    pid = running_pid(config)
    if pid is None:
        return "Haven is not running: this takes effect when it next starts."
    os.kill(pid, signal.SIGHUP)
    return "Applied to the running Haven."


@click.group("staff-key")
def staff_key_group() -> None:
    """Tor client-authorization keys for the staff onion, one per device."""


@staff_key_group.command("add")
@click.argument("name")
def staff_key_add(name: str) -> None:
    """Let one more device reach the staff onion; prints its key once."""
    database = runtime().database
    with database.connect() as conn:
        text = staff_keys.add_device(conn, name)
    click.echo(f"Device {name} added. Give its holder the text below, over a safe channel;")
    click.echo("Haven keeps only the public half and cannot show the private key again.\n")
    click.echo(text)
    click.echo(tell_running_haven(database.config))


@staff_key_group.command("list")
def staff_key_list() -> None:
    """Show the devices that may reach the staff onion."""
    with runtime().database.connect() as conn:
        devices = onion_keys.clients(conn)
    if not devices:
        click.echo("No staff devices yet: .venv/bin/haven staff-key add NAME")
    for name, _, added_on in devices:
        click.echo(f"{name}  (added {added_on})")


@staff_key_group.command("revoke")
@click.argument("name")
def staff_key_revoke(name: str) -> None:
    """Shut one device out of the staff onion."""
    database = runtime().database
    with database.connect() as conn:
        staff_keys.revoke_device(conn, name)
    click.echo(f"Device {name} revoked. {tell_running_haven(database.config)}")


@click.group("onion")
def onion_group() -> None:
    """Haven's onion service addresses."""


@onion_group.command("rotate")
@click.argument("role", type=click.Choice(ROLES))
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def onion_rotate(role: str, yes: bool) -> None:
    """Give the public or staff onion a new address; the old one stops working."""
    database = runtime().database
    if not yes:
        click.confirm(f"Everyone who knows the old {role} address must be given the new one. "
                      "Rotate now?", abort=True)
    with database.connect() as conn:
        old, new = staff_keys.rotate(conn, role)
    if old is not None:
        click.echo(f"old {role} address: {old}")
    click.echo(f"new {role} address: {new}")
    click.echo(tell_running_haven(database.config))


@click.command("status")
def status_command() -> None:
    """Show tor, bootstrap, both addresses, descriptor uploads and PoW."""
    database = runtime().database
    config = database.config
    with database.connect() as conn:
        keys = {role: onion_keys.service_key(conn, role) for role in ROLES}
        devices = len(onion_keys.clients(conn))
    pid = running_pid(config)
    click.echo(f"Haven: running (pid {pid})" if pid else "Haven: not running")
    for role in ROLES:
        key = keys[role]
        address = onion_address(service_id_from_key(key)) if key else "(made at first start)"
        click.echo(f"{role} address: {address}")
    click.echo(f"staff devices authorized: {devices}")
    if pid is None:
        return
    report = read_status(config)
    if report is None:
        click.echo("tor: no status yet (Haven is starting)")
    elif report.status is None:
        click.echo(f"tor: not reachable now; the watchdog is recovering ({report.problem})")
    else:
        click.echo(describe(report.status))


@click.command("torrc")
@click.option("--service-dir", type=click.Path(path_type=Path), default=DEFAULT_SERVICE_ROOT,
              show_default=True, help="Where the HiddenServiceDir folders go.")
def torrc_command(service_dir: Path) -> None:
    """Print a torrc block for running Haven behind the system tor."""
    try:
        click.echo(render_torrc(build_specs(runtime().database).values(), service_dir), nl=False)
    except TorConfigError as error:
        raise click.ClickException(str(error)) from None


COMMANDS = (staff_key_group, onion_group, status_command, torrc_command)
