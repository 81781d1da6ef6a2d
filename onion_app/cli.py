"""The operator's one command: ``python run.py`` and its subcommands.

Without a subcommand it prepares the instance and serves both apps; the
subcommands are the same click commands the apps register on ``app.cli``, so
the tests drive them through ``app.test_cli_runner()``.
"""

from __future__ import annotations

import signal
import sys
import threading
from types import FrameType

import click
from flask.cli import ScriptInfo

from onion_app import serve
from onion_app.config import Config
from onion_app.errors import HavenError
from onion_app.factory import create_app
from onion_app.operator.commands import COMMANDS as OPERATOR_COMMANDS
from onion_app.operator.commands import purge_now
from onion_app.store import maintenance
from onion_app.store.commands import COMMANDS
from onion_app.store.keys import display


@click.group(invoke_without_command=True, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--local", is_flag=True,
              help="Serve on loopback only, without starting tor.")
@click.pass_context
def cli(ctx: click.Context, local: bool) -> None:
    """Haven: run it, or manage its database.

    With no command, prepares the instance folder and database if needed and
    serves the public and staff apps.
    """
    config = _load_config()
    ctx.obj = ScriptInfo(create_app=lambda: create_app("staff", config))
    if ctx.invoked_subcommand is None:
        run_server(config, local=local)


for _command in (*COMMANDS, *OPERATOR_COMMANDS):
    cli.add_command(_command)


def _load_config() -> Config:
    try:
        return Config.from_env()
    except HavenError as error:
        raise click.ClickException(str(error)) from None


def run_server(config: Config, *, local: bool) -> None:
    """Prepares the database, serves both apps and waits for Ctrl-C or SIGTERM."""
    try:
        result = maintenance.init_database(config)
    except HavenError as error:
        raise click.ClickException(str(error)) from None
    if result.created:
        click.echo(f"created the encrypted database {display(config.db_path)}")
        if config.db_passphrase is None:
            click.echo(f"its key is in {display(config.db_key_path)}: back it up, keep it apart")
    apps = {role: create_app(role, config) for role in ("public", "staff")}
    ports = {"public": config.public_port, "staff": config.staff_port}
    try:
        served = serve.start(apps, config.host, ports)
    except OSError as error:
        raise click.ClickException(f"cannot listen on {config.host}: {error.strerror}") from None
    if not local:
        click.echo("onion services are not set up by this version; serving on loopback only")
    click.echo(f"public (requesters): {served.address('public')}")
    click.echo(f"staff (volunteers, operators): {served.address('staff')}")
    click.echo("press Ctrl-C to stop")
    stop = threading.Event()
    janitor = threading.Thread(target=_purge_daily, args=(config, stop), daemon=True,
                               name="haven-retention")
    janitor.start()
    _wait_for_stop(stop)
    served.close()
    click.echo("stopped")


def _purge_daily(config: Config, stop: threading.Event) -> None:
    """Retention inside the server: once at start, then once a day."""
    while not stop.is_set():
        try:
            purge_now(config)
        except HavenError as error:
            click.echo(f"retention purge failed: {error}", err=True)
        stop.wait(24 * 3600)


def _wait_for_stop(stop: threading.Event) -> None:
    def on_signal(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    while not stop.wait(1):
        pass


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``run.py`` and the ``haven`` console script."""
    try:
        cli.main(args=argv, prog_name="run.py", standalone_mode=True)
    except SystemExit as exit_:
        return int(exit_.code or 0)
    return 0


if __name__ == "__main__":
    sys.exit(main())
