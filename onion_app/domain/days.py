"""Days, the only unit of time Haven shows or keeps.

Shown in the reader's language by :mod:`onion_app.i18n` (``day``, ``days_ago``).
"""

from __future__ import annotations

import datetime


def age_in_days(day: str, today: str) -> int:
    """Whole days from ``day`` to ``today`` (both YYYY-MM-DD), never negative."""
    delta = datetime.date.fromisoformat(today) - datetime.date.fromisoformat(day)
    return max(delta.days, 0)

