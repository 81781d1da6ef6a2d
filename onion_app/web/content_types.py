"""Which request bodies a view accepts.

Haven's forms are plain HTML forms, so a body is either
``application/x-www-form-urlencoded`` or, on the few views that take a file,
``multipart/form-data``. A view marks itself with :func:`accepts_files`; the
gate that answers every other content type (415) reads the mark.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from flask import abort, current_app, request

View = TypeVar("View", bound=Callable[..., object])

FORM = "application/x-www-form-urlencoded"
MULTIPART = "multipart/form-data"


def accepts_files(view: View) -> View:
    """Marks ``view`` as taking ``multipart/form-data`` as well as a plain form."""
    view.accepts_files = True  # type: ignore[attr-defined]
    return view


def takes_files(view: Callable[..., object] | None) -> bool:
    """Whether ``view`` was marked with :func:`accepts_files`."""
    return bool(getattr(view, "accepts_files", False))


def has_body(environ: dict[str, object]) -> bool:
    """Whether a request carries a body: a declared length above 0, or chunks."""
    length = str(environ.get("CONTENT_LENGTH") or "").strip()
    if length not in ("", "0"):
        return True
    return "chunked" in str(environ.get("HTTP_TRANSFER_ENCODING", "")).lower()


def refuse_other_bodies() -> None:
    """A ``before_request`` hook: 415 for a body no Haven form would send.

    Runs before the CSRF check and before any form is built, so a JSON body,
    plain text or a body with no type never reaches a validator (Flask-WTF
    would turn JSON into form data of any shape). A request that did not
    match a route keeps its 404 or 405.

    :raises UnsupportedMediaType: (415) for any other body
    """
    if request.routing_exception is not None or not has_body(request.environ):
        return
    mimetype = request.mimetype
    if mimetype == FORM:
        return
    view = current_app.view_functions.get(request.endpoint or "")
    if mimetype == MULTIPART and takes_files(view):
        # Only a form with files may pass the text limit; each text field is
        # still bounded by MAX_FORM_MEMORY_SIZE.
        request.max_content_length = current_app.config["HAVEN_FILES_BODY_LIMIT"]
        return
    abort(415)
