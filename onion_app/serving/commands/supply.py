"""``haven supply``: open requests nobody can read, requests waiting, and a
table of skills and languages, demand against supply (metadata only)."""

from __future__ import annotations

import click

from onion_app.serving.commands import runtime
from onion_app.store import oversight


@click.command("supply")
@click.option("--days", type=click.IntRange(min=1), default=None,
              help="Unclaimed for more than this many days counts as waiting "
                   "(default: HAVEN_WIDEN_AFTER_DAYS).")
def supply_command(days: int | None) -> None:
    """Show whom to recruit: demand (open requests) against supply (active
    vetted volunteers) by skill and language. Counts only, never content."""
    here = runtime()
    days = days or here.config.widen_after_days
    with here.database.connect() as conn:
        found = oversight.supply_and_demand(conn, here.today(), days)
    click.echo(f"open requests nobody but their requester can read: {found.unread}")
    click.echo(f"open requests unclaimed for more than {days} days: {found.waiting}")
    if not found.gaps:
        click.echo("no open requests and no active vetted volunteers")
        return
    click.echo(f"{'skill':<14}{'language':<10}{'demand':>8}{'supply':>8}")
    for gap in found.gaps:
        click.echo(f"{gap.skill:<14}{gap.language:<10}{gap.demand:>8}{gap.supply:>8}")


COMMANDS = (supply_command,)
