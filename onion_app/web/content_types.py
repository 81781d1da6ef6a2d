"""Which request bodies a view accepts.

Haven's forms are plain HTML forms, so a body is either
``application/x-www-form-urlencoded`` or, on the few views that take a file,
``multipart/form-data``. A view marks itself with :func:`accepts_files`; the
gate that answers every other content type (415) reads the mark.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

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
