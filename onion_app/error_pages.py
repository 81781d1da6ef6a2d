"""Error pages that say what happened and leak nothing.

No stack trace, version or path ever reaches a page; an unexpected error is
logged without the request's content and answered with a plain 500.
"""

from __future__ import annotations

from flask import Flask, render_template
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError

MESSAGES: dict[int, tuple[str, str]] = {
    400: ("Something in that request was not right",
          "The page could not understand what your browser sent. Go back and try again."),
    403: ("Not allowed", "You cannot do this here."),
    404: ("Not found", "There is nothing at this address."),
    405: ("Not allowed here", "This page cannot be used that way. Go back and use the form."),
    413: ("Too much text",
          "What you sent is larger than Haven accepts. Go back, shorten it, and send it again."),
    429: ("Too many at once",
          "Haven is busy or you have reached a limit. Wait a little and try again."),
    500: ("Something went wrong",
          "Haven could not finish this. Nothing you sent was shown to anyone. Try again later."),
}

CSRF_MESSAGE = (
    "This form expired or did not come from this site",
    "For your safety Haven only accepts forms it showed you in this session. Your session "
    "may have ended. Go back, reload the page, and send the form again.",
)


def _page(code: int, title: str, text: str) -> tuple[str, int]:
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
