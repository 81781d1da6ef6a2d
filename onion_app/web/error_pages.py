"""Error pages that say what happened and leak nothing.

No stack trace, version or path ever reaches a page; an unexpected error is
logged without the request's content and answered with a plain 500.
"""

from __future__ import annotations

from flask import Flask, render_template
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError

from onion_app.i18n import lazy_gettext as _l

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
    429: (_l("Too many at once"),
          _l("Haven is busy or you have reached a limit. Wait a little and try again.")),
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


def register(app: Flask) -> None:
    """Registers the handlers on an app."""
    app.register_error_handler(CSRFError, handle_csrf)
    app.register_error_handler(HTTPException, handle_http)
    app.register_error_handler(InternalServerError, handle_unexpected)
