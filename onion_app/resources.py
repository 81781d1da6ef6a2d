"""Where Haven's templates, message catalogues and static files are on disk.

The one place that knows the layout, so that code moving between packages
never has to count ``parent`` steps. Two layouts exist:

- **installed from a wheel**: the build (``setup.py``) copies ``templates/``
  and the compiled catalogues into the package, next to this file, as
  ``onion_app/templates`` and ``onion_app/translations``;
- **a checkout** (an editable install, or ``run.py`` next to the sources):
  ``templates/`` and ``translations/`` stay at the top of the repository and
  are never copied into ``onion_app/``, so they are found there.

The packaged copy wins when present: an installed app must never pick up
templates from whatever folder it happens to be started in.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["static_dir", "templates_dir", "translations_dir"]

# This module sits at the top of the package on purpose: when the package's
# modules move into sub-packages, these paths stay right.
_PACKAGE = Path(__file__).resolve().parent
_CHECKOUT = _PACKAGE.parent


def _packaged_or_checkout(name: str) -> Path:
    packaged = _PACKAGE / name
    return packaged if packaged.is_dir() else _CHECKOUT / name


def templates_dir() -> Path:
    """The folder of Jinja templates (``base.html``, ``requester/``...).

    :returns: ``onion_app/templates`` in an installed wheel, else the
        checkout's top-level ``templates/``
    """
    return _packaged_or_checkout("templates")


def translations_dir() -> Path:
    """The folder of message catalogues, ``<locale>/LC_MESSAGES/<domain>.mo``.

    An installed wheel holds only the compiled ``.mo`` files; a checkout holds
    the ``.po`` sources too, and its ``.mo`` files exist once ``make
    translations`` has run.

    :returns: ``onion_app/translations`` in an installed wheel, else the
        checkout's top-level ``translations/``
    """
    return _packaged_or_checkout("translations")


def static_dir() -> Path:
    """The folder of static files (``haven.css``), inside the package in every layout.

    :returns: ``onion_app/static``
    """
    return _PACKAGE / "static"
