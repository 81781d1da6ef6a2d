"""Staff-side checks on top of deny-by-default: a live account, and operators.

A session outlives nothing: every request reloads the volunteer's row, so a
suspension or deletion takes effect on the next page, not at the next login.
The staff app also makes the process's dummy verifier as it starts (see
:class:`~onion_app.domain.volunteer_keys.DummyVerifier`).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Concatenate, ParamSpec, TypeVar

from flask import Flask, abort, g, redirect, url_for
from werkzeug.wrappers import Response

from onion_app.store import staff
from onion_app.store.rows import Volunteer
from onion_app.web import auth
from onion_app.web.sessions import Session
from onion_app.web.state import get_db, state_of

P = ParamSpec("P")
R = TypeVar("R")


def init_app(app: Flask) -> None:
    """Adds the check that a signed-in volunteer's account is still live, and
    makes the dummy verifier an unknown handle's login is checked against."""
    # Now, at start, waiting for a slot of the gate like any derivation: made
    # at a login instead, it would cost that login a second slot.
    stretching = state_of(app).stretching
    stretching.dummy.prepare(stretching.params, stretching.gate)

    @app.before_request
    def account_still_live() -> Response | None:
        me = auth.current()
        if me is None:
            return None
        row = staff.by_id(get_db(), me.account_id)
        # The public id, not the row id, says it is still the same account: a
        # row id can come back for a newcomer, whose sessions must not end.
        same = row is not None and row.public_id == me.account_ref
        if row is None or not same or row.status != "vetted":
            if same:
                auth.store().end_account("volunteer", me.account_id)
            auth.end()
            g.haven_session = None
            return redirect(url_for("volunteer.login"))
        g.volunteer_row = row
        return None


def signed_in_volunteer(_me: Session) -> Volunteer:
    """The signed-in volunteer's row, loaded once per request by the hook above."""
    row: Volunteer = g.volunteer_row
    return row


def operator_required(view: Callable[Concatenate[Session, P], R]) -> Callable[P, R]:
    """Like :func:`auth.login_required`, and 404 for anyone not an operator:
    a volunteer learns nothing, not even that the page exists."""

    @functools.wraps(view)
    @auth.login_required
    def wrapped(me: Session, /, *args: P.args, **kwargs: P.kwargs) -> R:
        if not g.volunteer_row.is_operator:
            abort(404)
        return view(me, *args, **kwargs)

    return wrapped
