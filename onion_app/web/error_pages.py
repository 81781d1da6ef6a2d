"""Error pages that say what happened and leak nothing.

No stack trace, version or path ever reaches a page; an unexpected error is
logged without the request's content and answered with a plain 500.
"""

from __future__ import annotations

from flask import Flask, abort, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError

from onion_app.i18n import lazy_gettext as _l

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


def answer_server_error() -> None:
    """A request the server refused before the app (too large, malformed):
    answered here, first of all hooks, with the page for its status."""
    code = request.environ.get(SERVER_ERROR)
    if isinstance(code, int):
        abort(code)


def register(app: Flask) -> None:
    """Registers the handlers on an app."""
    app.before_request_funcs.setdefault(None, []).insert(0, answer_server_error)
    app.register_error_handler(CSRFError, handle_csrf)
    app.register_error_handler(HTTPException, handle_http)
    app.register_error_handler(InternalServerError, handle_unexpected)
