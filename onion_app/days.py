"""Days, the only unit of time Haven shows or keeps."""

from __future__ import annotations

import datetime


def age_in_days(day: str, today: str) -> int:
    """Whole days from ``day`` to ``today`` (both YYYY-MM-DD), never negative."""
    delta = datetime.date.fromisoformat(today) - datetime.date.fromisoformat(day)
    return max(delta.days, 0)


def days_ago(day: str, today: str) -> str:
    """``day`` as a person reads an age: "today", "1 day", "12 days"."""
    age = age_in_days(day, today)
    if age == 0:
        return "today"
    return "1 day" if age == 1 else f"{age} days"
