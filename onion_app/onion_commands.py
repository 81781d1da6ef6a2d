"""The operator's onion commands: staff keys, rotation, status, torrc.

They change the database; a running Haven picks the change up at once
(the command sends it SIGHUP), otherwise at its next start. Private keys
for staff devices are printed once and never stored.
"""

from __future__ import annotations

import os
import re
import signal
from pathlib import Path

import click
from flask.cli import with_appcontext

from onion_app.config import Config, current_config
from onion_app.errors import HavenError
from onion_app.onions import ROLES, build_specs, read_status
from onion_app.running import running_pid
from onion_app.store import onion_keys, staff
from onion_app.store.connection import Connection
from onion_app.store.maintenance import open_existing
from tor_config.client_auth import generate_client_keys, install_instructions
from tor_config.errors import TorConfigError
from tor_config.keys import new_service_key, onion_address, service_id_from_key
from tor_config.status import describe
from tor_config.torrc import DEFAULT_SERVICE_ROOT, render_torrc

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,39}")



def _open(config: Config) -> Connection:
    try:
        conn, _ = open_existing(config)
    except HavenError as error:
        raise click.ClickException(str(error)) from None
    return conn


def ensure_service_key(conn: Connection, role: str) -> str:
    """The service's stored key, made now if it has none (so its address is known)."""
    key = onion_keys.service_key(conn, role)
    if key is None:
        key = new_service_key()
        onion_keys.put_service_key(conn, role, key)
    return key


def tell_running_haven(config: Config) -> str:
    pid = running_pid(config)
    if pid is None:
        return "Haven is not running: this takes effect when it next starts."
    os.kill(pid, signal.SIGHUP)
    return "Applied to the running Haven."


def add_staff_key(conn: Connection, name: str) -> str:
    """Adds a staff device and returns the instructions holding its private key."""
    address = onion_address(service_id_from_key(ensure_service_key(conn, "staff")))
    pair = generate_client_keys()
    onion_keys.add_client(conn, name, pair.public)
    staff.audit(conn, "cli", "added staff key", name)
    conn.commit()
    return install_instructions(address, pair.private)


@click.group("staff-key")
def staff_key_group() -> None:
    """Tor client-authorization keys for the staff onion, one per device."""


@staff_key_group.command("add")
@click.argument("name")
@with_appcontext
def staff_key_add(name: str) -> None:
    """Let one more device reach the staff onion; prints its key once."""
    if not _NAME.fullmatch(name):
        raise click.ClickException("a device name is 1 to 40 letters, digits, dots, dashes "
                                   "or underscores")
    config = current_config()
    conn = _open(config)
    try:
        if any(existing == name for existing, _, _ in onion_keys.clients(conn)):
            raise click.ClickException(f"a device named {name} exists; revoke it first")
        text = add_staff_key(conn, name)
    finally:
        conn.close()
    click.echo(f"Device {name} added. Give its holder the text below, over a safe channel;")
    click.echo("Haven keeps only the public half and cannot show the private key again.\n")
    click.echo(text)
    click.echo(tell_running_haven(config))


@staff_key_group.command("list")
@with_appcontext
def staff_key_list() -> None:
    """Show the devices that may reach the staff onion."""
    conn = _open(current_config())
    try:
        devices = onion_keys.clients(conn)
    finally:
        conn.close()
    if not devices:
        click.echo("No staff devices yet: python run.py staff-key add NAME")
    for name, _, added_on in devices:
        click.echo(f"{name}  (added {added_on})")


@staff_key_group.command("revoke")
@click.argument("name")
@with_appcontext
def staff_key_revoke(name: str) -> None:
    """Shut one device out of the staff onion."""
    config = current_config()
    conn = _open(config)
    try:
        # Check and delete in one write transaction: two revokes at once must
        # not both see two devices and leave none.
        conn.execute("BEGIN IMMEDIATE")
        devices = [existing for existing, _, _ in onion_keys.clients(conn)]
        if name not in devices:
            conn.rollback()
            raise click.ClickException(f"no device named {name}; see python run.py staff-key list")
        if len(devices) == 1:
            conn.rollback()
            raise click.ClickException("refusing to revoke the last staff key: the staff onion "
                                       "would be open to anyone. Add another device first.")
        onion_keys.remove_client(conn, name)
        staff.audit(conn, "cli", "revoked staff key", name)
        conn.commit()
    finally:
        conn.close()
    click.echo(f"Device {name} revoked. {tell_running_haven(config)}")


@click.group("onion")
def onion_group() -> None:
    """Haven's onion service addresses."""


@onion_group.command("rotate")
@click.argument("role", type=click.Choice(ROLES))
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@with_appcontext
def onion_rotate(role: str, yes: bool) -> None:
    """Give the public or staff onion a new address; the old one stops working."""
    config = current_config()
    if not yes:
        click.confirm(f"Everyone who knows the old {role} address must be given the new one. "
                      "Rotate now?", abort=True)
    conn = _open(config)
    try:
        old = onion_keys.service_key(conn, role)
        new = new_service_key()
        onion_keys.put_service_key(conn, role, new)
        if old is not None:
            # A tor Haven attaches to may still hold the old service (after a
            # crash): the next start or reload removes it from there.
            onion_keys.retire(conn, service_id_from_key(old))
        staff.audit(conn, "cli", f"rotated the {role} onion",
                    onion_address(service_id_from_key(new)))
        conn.commit()
    finally:
        conn.close()
    if old is not None:
        click.echo(f"old {role} address: {onion_address(service_id_from_key(old))}")
    click.echo(f"new {role} address: {onion_address(service_id_from_key(new))}")
    click.echo(tell_running_haven(config))


@click.command("status")
@with_appcontext
def status_command() -> None:
    """Show tor, bootstrap, both addresses, descriptor uploads and PoW."""
    config = current_config()
    conn = _open(config)
    try:
        keys = {role: onion_keys.service_key(conn, role) for role in ROLES}
        devices = len(onion_keys.clients(conn))
    finally:
        conn.close()
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
@with_appcontext
def torrc_command(service_dir: Path) -> None:
    """Print a torrc block for running Haven behind the system tor."""
    try:
        click.echo(render_torrc(build_specs(current_config()).values(), service_dir), nl=False)
    except (HavenError, TorConfigError) as error:
        raise click.ClickException(str(error)) from None


COMMANDS = (staff_key_group, onion_group, status_command, torrc_command)
