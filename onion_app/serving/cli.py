"""The operator's one command: ``python run.py`` and its subcommands.

Without a subcommand it prepares the instance and the database, serves both
apps on unix sockets, starts (or attaches to) tor, publishes both onion
services and prints their addresses. ``--local`` serves on loopback ports
without tor. The subcommands come from the one registry in
:mod:`onion_app.serving.commands`, which the tests drive through this same
group. One :class:`Runtime` per process: the database key is derived once,
whatever runs.
"""

from __future__ import annotations

import signal
import sys
import threading
from collections.abc import Callable
from types import FrameType

import click

from onion_app.config import Config, ensure_instance
from onion_app.domain import staff_keys
from onion_app.errors import HavenError
from onion_app.serving import logs, memory, serve
from onion_app.serving.commands import HavenGroup, registry
from onion_app.serving.commands.notify import notify_daily
from onion_app.serving.commands.operator import purge_now
from onion_app.serving.onions import ROLES, OnionServices, socket_path
from onion_app.serving.running import InstanceLock
from onion_app.store import onion_keys, staff
from onion_app.store.connection import DatabaseFailure, problem_of
from onion_app.store.keys import display
from onion_app.web.factory import create_app
from onion_app.web.state import Runtime
from tor_config.errors import TorConfigError
from tor_config.onion import OnionService

STATUS_EVERY_SECONDS = 30


@click.group(cls=HavenGroup, invoke_without_command=True,
             context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--local", is_flag=True,
              help="Serve on loopback ports only, without tor (for development).")
@click.pass_context
def cli(ctx: click.Context, local: bool) -> None:
    """Haven: run it, or manage it.

    With no command, prepares the instance folder and database if needed,
    starts tor and serves the public and staff onion services.
    """
    # The tests hand in a runtime of their own; run.py makes one here.
    if ctx.obj is None:
        memory_locked = False
        if ctx.invoked_subcommand is None:
            # Before the first connection: SQLCipher's memory security, once
            # on, stays on for the process. The commands are short-lived and
            # keep SQLCipher's own locking.
            guard = memory.guard_process()
            click.echo(guard.status)
            memory_locked = guard.swap_barred
        ctx.obj = Runtime.for_config(Config.from_env(), memory_locked=memory_locked)
    if ctx.invoked_subcommand is None:
        if local:
            run_local(ctx.obj)
        else:
            run_onions(ctx.obj)


for _command in registry():
    cli.add_command(_command)


def _prepare(here: Runtime) -> None:
    config = here.config
    result = here.database.init()
    if result.created:
        click.echo(f"created the encrypted database {display(config.db_path)}")
        if config.db_passphrase is None:
            click.echo(f"its key is in {display(config.db_key_path)}: back it up, keep it apart")
    with here.database.connect() as conn:
        if not staff.operator_exists(conn):
            # Without an operator nobody can approve a volunteer, and the web
            # pages cannot make one (that would be open to anyone).
            click.echo("no operator yet: create the first with .venv/bin/haven operator create "
                       "HANDLE (from another terminal while Haven runs; it asks for a passphrase)")


def _lock(config: Config) -> InstanceLock:
    ensure_instance(config)
    lock = InstanceLock(config)
    lock.acquire()
    return lock


def run_local(here: Runtime) -> None:
    """Serves both apps on loopback ports, without tor, until Ctrl-C or SIGTERM."""
    # The lock comes before anything touches the database: a second start
    # must be refused before it could migrate the file under a running Haven.
    lock = _lock(here.config)
    try:
        _prepare(here)
        _serve_local(here)
    finally:
        lock.release()


def _serve_local(here: Runtime) -> None:
    config = here.config
    apps = {role: create_app(role, config, here) for role in ROLES}
    try:
        served = serve.start(apps, config.host,
                             ports={"public": config.public_port, "staff": config.staff_port})
    except OSError as error:
        raise click.ClickException(f"cannot listen on {config.host}: "
                                   f"{error.strerror or error}") from None
    click.echo(f"public (requesters): {served.address('public')}")
    click.echo(f"staff (volunteers, operators): {served.address('staff')}")
    click.echo("serving on loopback without tor; press Ctrl-C to stop")
    stop, reload_wanted = _catch_signals()
    _background(here, stop, onions=None)
    try:
        _serve_until_stopped(stop, reload_wanted, on_reload=None)
    finally:
        served.close()
        # The server threads' kept connections (store/database.py).
        here.database.close()
    click.echo("stopped")


def run_onions(here: Runtime) -> None:
    """Serves both apps to tor and publishes both onion services, until stopped."""
    # Held before anything else, so a second start cannot touch the database,
    # the sockets, the tor or the pid of the Haven already serving this instance.
    lock = _lock(here.config)
    try:
        _prepare(here)
        first_key = _first_staff_key(here)
        if first_key and _to_a_terminal():
            click.echo("No staff device could reach the staff onion yet, so one key was made. "
                       "It is shown once:\n")
            click.echo(first_key)
        elif first_key:
            # Under systemd or a pipe this output is kept (journald writes it to
            # disk), and a private key must never be; the operator makes one
            # at the server's terminal instead.
            click.echo("The staff onion is locked to a first device key that is not shown here, "
                       "because this output is not a terminal and may be stored. On the server, "
                       "run: .venv/bin/haven staff-key add NAME   (then: .venv/bin/haven staff-key "
                       "revoke first-device)")
        # Signals are caught from here on, so Ctrl-C while tor starts still
        # removes the services and stops tor rather than leaving them behind.
        stop, reload_wanted = _catch_signals()
        _serve_onions(here, stop, reload_wanted)
    finally:
        lock.release()
    click.echo("stopped; both onion services are removed")


def _serve_onions(here: Runtime, stop: threading.Event, reload_wanted: threading.Event) -> None:
    config = here.config
    apps = {role: create_app(role, config, here) for role in ROLES}
    try:
        served = serve.start(apps, config.host,
                             sockets={role: socket_path(config, role) for role in ROLES})
    except OSError as error:
        raise click.ClickException(f"cannot open the app sockets in {config.instance_path}: "
                                   f"{error.strerror or error}") from None
    onions: OnionServices | None = None
    try:
        try:
            onions = OnionServices(here.database, click.echo)
            services = onions.start()
        except (TorConfigError, HavenError) as error:
            raise click.ClickException(
                f"tor could not publish Haven: {error}. Check that tor is installed (make "
                "run installs it), or use --local to serve on loopback without tor.") from None
        _announce(services)
        progress = onions.wait_for_bootstrap(config.bootstrap_wait_seconds, stop)
        if progress is not None and not progress.done and not stop.is_set():
            click.echo(_stalled(config, progress.percent))
        # Whatever the CLI changed while tor was starting applies now.
        reload_wanted.set()
        _background(here, stop, onions)
        if not stop.is_set():
            click.echo("serving; press Ctrl-C to stop")
        _serve_until_stopped(stop, reload_wanted, onions.reload)
    finally:
        try:
            if onions is not None:
                onions.stop()
        finally:
            served.close()
            here.database.close()


def _stalled(config: Config, percent: int) -> str:
    """What to say when tor has not got through in time: where to look, and
    the way round a network that blocks tor (bridges)."""
    where = ("tor's own log" if config.tor_control
             else f"{config.instance_path / 'tor' / 'tor.log'}")
    return (f"tor cannot reach the network yet (bootstrapped {percent}%). Haven keeps "
            "serving; the addresses work as soon as tor gets through. If it stays stuck, "
            f"read {where}; where tor is blocked, give it bridges in HAVEN_TOR_OPTIONS "
            "(see the README).")


def _to_a_terminal() -> bool:
    return sys.stdout.isatty()


def _announce(services: dict[str, OnionService]) -> None:
    click.echo(f"public onion (requesters): http://{services['public'].address}/")
    click.echo(f"staff onion (volunteers, operators, client authorization): "
               f"http://{services['staff'].address}/")
    click.echo("add more staff devices with: .venv/bin/haven staff-key add NAME")


def _first_staff_key(here: Runtime) -> str | None:
    """On a first start, a staff key for the operator's own device."""
    with here.database.connect() as conn:
        if onion_keys.clients(conn):
            return None
        return staff_keys.add_device(conn, "first-device")


def _background(here: Runtime, stop: threading.Event, onions: OnionServices | None) -> None:
    threading.Thread(target=_purge_daily, args=(here, stop), daemon=True,
                     name="haven-retention").start()
    threading.Thread(target=notify_daily, args=(here, stop), daemon=True,
                     name="haven-digests").start()
    if onions is not None:
        threading.Thread(target=_status_loop, args=(onions, stop), daemon=True,
                         name="haven-status").start()


def _purge_daily(here: Runtime, stop: threading.Event) -> None:
    """Retention inside the server: once at start, then once a day."""
    while not stop.is_set():
        try:
            purge_now(here)
        except HavenError as error:
            click.echo(f"retention purge failed: {error}", err=True)
        except DatabaseFailure as error:
            # A full disk or a held lock: said plainly, and tried again tomorrow
            # rather than ending the thread.
            problem = problem_of(error, here.config.db_path)
            click.echo(f"retention purge failed: {problem}", err=True)
        stop.wait(24 * 3600)


def _status_loop(onions: OnionServices, stop: threading.Event) -> None:
    while not stop.is_set():
        try:
            onions.write_status()
        except OSError as error:
            click.echo(f"cannot write the status file: {error.strerror}", err=True)
        stop.wait(STATUS_EVERY_SECONDS)


def _catch_signals() -> tuple[threading.Event, threading.Event]:
    """SIGINT/SIGTERM set the first event (stop); SIGHUP the second (reload)."""
    stop, reload_wanted = threading.Event(), threading.Event()

    def on_stop(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    def on_hangup(_signum: int, _frame: FrameType | None) -> None:
        reload_wanted.set()

    signal.signal(signal.SIGINT, on_stop)
    signal.signal(signal.SIGTERM, on_stop)
    signal.signal(signal.SIGHUP, on_hangup)
    return stop, reload_wanted


def _serve_until_stopped(stop: threading.Event, reload_wanted: threading.Event,
                         on_reload: Callable[[], None] | None) -> None:
    while not stop.wait(0.5):
        if reload_wanted.is_set():
            reload_wanted.clear()
            if on_reload is None:
                continue
            try:
                on_reload()
            except Exception as error:  # a failed reload must not stop serving
                click.echo(f"reload failed, Haven keeps serving as before: {error}", err=True)


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``run.py`` and the ``haven`` console script.

    :returns: the exit status
    """
    logs.configure()
    try:
        cli.main(args=argv, prog_name=".venv/bin/haven", standalone_mode=True)
    except SystemExit as exit_:
        return int(exit_.code or 0)
    return 0


if __name__ == "__main__":
    sys.exit(main())
