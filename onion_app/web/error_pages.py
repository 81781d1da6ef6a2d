"""Error pages that say what happened and leak nothing.

No stack trace, version or path ever reaches a page; an unexpected error is
logged without the request's content and answered with a plain 500.
"""

from __future__ import annotations

from flask import Flask, abort, current_app, make_response, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError
from werkzeug.wrappers import Response

from onion_app.errors import DiskFull, StoreBusy, StoreError, StoreUnwritable
from onion_app.i18n import lazy_gettext as _l
from onion_app.store.connection import DatabaseFailure, problem_of
from onion_app.web.state import current_config

#: The WSGI environ key under which the server hands the app a request it
#: refused itself (onion_app.serving.server_errors), with the status to answer.
SERVER_ERROR = "haven.server_error"

MESSAGES: dict[int, tuple[object, object]] = {
    400: (_l("Something in that request was not right"),
          _l("The page could not understand what your browser sent. Go back and try again.")),
    403: (_l("Not allowed"), _l("You cannot do this here.")),
    404: (_l("Not found"), _l("There is nothing at this address.")),
    405: (_l("Not allowed here"),
          _l("This page cannot be used that way. Go back and use the form.")),
    413: (_l("Too much text"),
          _l("What you sent is larger than Haven accepts. Go back, shorten it, and send it "
             "again.")),
    415: (_l("Haven cannot read this"),
          _l("Haven only accepts what its own forms send. Go back and use the form on the "
             "page.")),
    429: (_l("Too many at once"),
          _l("Haven is busy or you have reached a limit. Wait a little and try again.")),
    431: (_l("Your browser sent too much"),
          _l("Your browser sent more than Haven accepts with a page. Close this tab, open "
             "Haven again in a new one, and try again.")),
    500: (_l("Something went wrong"),
          _l("Haven could not finish this. Nothing you sent was shown to anyone. Try again "
             "later.")),
}

CSRF_MESSAGE = (
    _l("This form expired or did not come from this site"),
    _l("For your safety Haven only accepts forms it showed you in this session. Your session "
       "may have ended. Go back, reload the page, and send the form again."),
)


def _page(code: int, title: object, text: object) -> tuple[str, int]:
    return render_template("error.html", code=code, title=title, text=text), code


def handle_http(error: HTTPException) -> tuple[str, int]:
    code = error.code or 500
    title, text = MESSAGES.get(code, MESSAGES[500 if code >= 500 else 400])
    return _page(code, title, text)


def handle_csrf(_error: CSRFError) -> tuple[str, int]:
    return _page(400, *CSRF_MESSAGE)


def handle_unexpected(error: InternalServerError) -> tuple[str, int]:
    return _page(500, *MESSAGES[500])


BUSY = (_l("Haven is busy"),
        _l("Haven could not save this just now. Nothing was lost: what you wrote is below. "
           "Wait a few seconds, then send it again."))
CANNOT_SAVE = (_l("Haven cannot save right now"),
               _l("Nothing was saved and nothing was shown to anyone. What you wrote is below: "
                  "copy it somewhere safe, and try again later."))

# What a "try again" page may send back as it came: prose the person wrote
# (shown, editable) and the choices of the forms that carry it (hidden).
# Anything else could be a secret (a codename, a passphrase, a code) and is
# never written into a page.
_KEPT_PROSE = frozenset({"title", "story", "help", "text", "bio", "references"})
_KEPT_CHOICES = frozenset({"csrf_token", "skills", "languages", "region", "urgency", "reason",
                           "volunteer", "availability"})
_RETRY_AFTER_SECONDS = 10


def handle_store_trouble(error: Exception) -> Response:
    """The database is busy, full, read-only or failing: plain words for the
    operator in the log, and for the visitor a page that keeps what they typed.

    Any other failure goes on to the 500 page (and is logged there).
    """
    problem = problem_of(error, current_config().db_path)
    if problem is None:
        raise error
    if isinstance(problem, StoreBusy):
        current_app.logger.warning("database busy in %s: %s", request.endpoint, problem)
        title, text, status = *BUSY, 503
    else:
        current_app.logger.error("database cannot be used in %s: %s", request.endpoint,
                                 problem)
        title, text = CANNOT_SAVE
        status = 507 if isinstance(problem, DiskFull) else 503
    kept: list[tuple[str, str]] = []
    hidden: list[tuple[str, str]] = []
    if request.method == "POST":
        for name, value in request.form.items(multi=True):
            if name in _KEPT_PROSE:
                kept.append((name, value))
            elif name in _KEPT_CHOICES:
                hidden.append((name, value))
    page = render_template("store_trouble.html", title=title, text=text, kept=kept,
                           hidden=hidden, again=request.path)
    response = make_response(page, status)
    if isinstance(problem, (StoreBusy, StoreUnwritable)):
        response.headers["Retry-After"] = str(_RETRY_AFTER_SECONDS)
    return response


def answer_server_error() -> None:
    """A request the server refused before the app (too large, malformed):
    answered here, first of all hooks, with the page for its status."""
    code = request.environ.get(SERVER_ERROR)
    if isinstance(code, int):
        abort(code)


def register(app: Flask) -> None:
    """Registers the handlers on an app."""
    app.before_request_funcs.setdefault(None, []).insert(0, answer_server_error)
    app.register_error_handler(StoreError, handle_store_trouble)
    app.register_error_handler(DatabaseFailure, handle_store_trouble)
    app.register_error_handler(CSRFError, handle_csrf)
    app.register_error_handler(HTTPException, handle_http)
    app.register_error_handler(InternalServerError, handle_unexpected)
