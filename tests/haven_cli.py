"""Driving ``python run.py``'s click group in-process, over a test's runtime.

The same group and registry as production: only the :class:`Runtime` is the
test's (so the commands share the test's database handle, as they share the
server's in production).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from click.testing import CliRunner, Result
from flask import Flask

from onion_app.serving.cli import cli
from onion_app.web.state import Runtime, state


class HavenCliRunner:
    """``runner.invoke(args=[...], input=...)`` on ``run.py``'s group."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    def invoke(self, args: Sequence[str] = (), **kwargs: Any) -> Result:
        return CliRunner().invoke(cli, list(args), obj=self.runtime, **kwargs)


def cli_runner(app: Flask) -> HavenCliRunner:
    """A runner sharing ``app``'s runtime, as ``run.py``'s commands share the server's."""
    with app.app_context():
        return HavenCliRunner(state().runtime)
