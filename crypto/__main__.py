"""``python -m crypto``: the volunteer's offline tool (see :mod:`crypto.cli`)."""

from __future__ import annotations

import sys

from crypto.cli import main

__all__ = ["main"]

if __name__ == "__main__":
    sys.exit(main())
