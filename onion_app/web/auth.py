"""Who is logged in, and deny by default.

A ``before_request`` hook lets anonymous visitors reach only the endpoints an
app lists as open; every other view needs a session, which a decorator hands
to the view as an argument. The cookie (Flask's signed session) holds only the
session id; the session itself lives in :mod:`onion_app.web.sessions`.
"""

from __future__ import annotations

import datetime
import functools
from collections.abc import Callable
from typing import Concatenate, ParamSpec, TypeVar

from flask import (
    Flask,
    flash,
    g,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from werkzeug.wrappers import Response

from crypto.hybrid import ReaderPrivateKey
from crypto.requester import RequesterKeys
from onion_app.i18n import gettext as _
from onion_app.web.sessions import Session, SessionStore, account_kind
from onion_app.web.state import state

P = ParamSpec("P")
R = TypeVar("R")


KINDS = {"public": "requester", "staff": "volunteer"}


def init_app(app: Flask) -> None:
    """Gives the app the deny-by-default hook, over the sessions in its state."""
    app.context_processor(lambda: {"signed_in": current() is not None})
    app.before_request(_deny_by_default)


def _deny_by_default() -> Response | None:
    here = state()
    g.haven_session = _lookup(KINDS[here.role])
    endpoint = request.endpoint
    if endpoint is None or endpoint == "static" or endpoint in here.open_endpoints:
        return None
    if g.haven_session is None:
        return signed_out()
    return None


def signed_out() -> Response:
    """The answer to a page that needs a session this request does not have."""
    here = state()
    if request.method == "POST":
        return _keep_what_was_typed(here.login_endpoint)
    flash(_("Please sign in to continue."), "info")
    return redirect(url_for(here.login_endpoint))


# Only prose a person wrote is shown back; anything else (a passphrase, a
# codename, a code) could be a secret, so the list says what is allowed.
_SHOWN_BACK = frozenset({"title", "story", "help", "text", "bio", "references"})


def _keep_what_was_typed(login_endpoint: str) -> Response:
    """A session that ended while someone wrote must not cost them the text.

    Without JavaScript the browser cannot keep it for them, so the page shows
    what they sent, ready to copy, beside the way back in.
    """
    typed = [(name, value) for name, value in request.form.items(multi=True)
             if name in _SHOWN_BACK and value.strip()]
    here = state()
    page = render_template("session_ended.html", typed=typed,
                           login_url=url_for(login_endpoint),
                           idle=datetime.timedelta(minutes=here.idle_minutes),
                           lifetime=datetime.timedelta(minutes=here.lifetime_minutes))
    return make_response(page, 401)


def store() -> SessionStore:
    """This app's sessions."""
    return state().sessions


def _lookup(kind: str) -> Session | None:
    found = store().get(session.get("sid"))
    if found is not None and found.kind != kind:
        return None
    return found


def current() -> Session | None:
    """The logged-in session of this request, if any."""
    found: Session | None = g.get("haven_session")
    return found


def start(kind: str, account_id: int, private_key: ReaderPrivateKey | None,
          pending_totp: str | None = None, *, account_ref: str,
          requester_keys: RequesterKeys | None = None) -> None:
    """Logs in: a fresh session id, so an id seen before login is worthless after.

    ``account_ref`` is what no other account will ever have (see
    :attr:`Session.account_ref`); each page checks the account still has it.
    """
    old = session.get("sid")
    store().end(old)
    session.clear()
    session["sid"] = store().create(kind, account_id, private_key, pending_totp,
                                    requester_keys=requester_keys, account_ref=account_ref)


def end_account(kind: str, account_id: int) -> None:
    """Ends every session of an account in every app of this process."""
    state().runtime.sessions.end_accounts(kind, (account_id,))


def end_other_sessions(me: Session) -> None:
    """Ends every session of ``me``'s account but this request's own: after a
    passphrase change or a TOTP reset, a thief's session must not live on."""
    store().end_account(account_kind(me.kind), me.account_id, keep=session.get("sid"))


def end() -> None:
    """Logs out: the server forgets the session and the cookie is emptied."""
    store().end(session.get("sid"))
    session.clear()


def login_required(view: Callable[Concatenate[Session, P], R]) -> Callable[P, R]:
    """Hands the logged-in :class:`Session` to the view as its first argument.

    The deny-by-default hook has already redirected anyone without one.
    """

    @functools.wraps(view)
    def wrapped(*args: P.args, **kwargs: P.kwargs) -> R:
        me = current()
        if me is None:  # the hook makes this unreachable; refuse rather than assume
            raise PermissionError("no session")
        return view(me, *args, **kwargs)

    return wrapped
