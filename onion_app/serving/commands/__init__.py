"""The operator's commands, in one registry shared by ``run.py`` and the tests.

Each command is a thin click function: it asks, calls the domain or the store,
and prints. Every command receives the process's :class:`Runtime` as its click
context object, so it reaches the database through the one handle. A
:class:`HavenError` from anywhere below becomes one plain sentence and exit
status 1, in :class:`HavenGroup`, and nowhere else.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from onion_app.errors import HavenError
from onion_app.store.connection import DatabaseFailure, problem_of
from onion_app.web.state import Runtime


class HavenGroup(click.Group):
    """A click group that turns a :class:`HavenError` into one line and exit 1."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except HavenError as error:
            raise click.ClickException(str(error)) from None
        except DatabaseFailure as error:
            # A full disk, a read-only folder or a held lock met mid-command.
            here = ctx.find_object(Runtime)
            where = here.config.db_path if here is not None else Path("haven.db")
            raise click.ClickException(str(problem_of(error, where))) from None


def runtime() -> Runtime:
    """The process's runtime, as the top-level group made it (or a test passed it).

    :raises RuntimeError: outside a command
    """
    found = click.get_current_context().find_object(Runtime)
    if found is None:
        raise RuntimeError("no Haven runtime in this click context")
    return found


def registry() -> tuple[click.Command, ...]:
    """Every subcommand of ``python run.py``, in the order ``--help`` lists them."""
    from onion_app.serving.commands import database, notify, onion, operator, supply

    return (*database.COMMANDS, *operator.COMMANDS, *supply.COMMANDS, *onion.COMMANDS,
            *notify.COMMANDS)
