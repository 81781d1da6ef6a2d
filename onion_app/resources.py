"""Where Haven's templates, translations and static files are."""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent
_CHECKOUT = _PACKAGE.parent


def templates_dir() -> Path:
    return _CHECKOUT / "templates"


def translations_dir() -> Path:
    return _CHECKOUT / "translations"


def static_dir() -> Path:
    return _PACKAGE / "static"
