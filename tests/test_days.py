from __future__ import annotations

import pytest

from onion_app.days import age_in_days, days_ago


@pytest.mark.parametrize(("day", "today", "text"), [
    ("2026-11-26", "2026-11-26", "today"),
    ("2026-11-25", "2026-11-26", "1 day"),
    ("2026-10-27", "2026-11-26", "30 days"),
    ("2026-11-27", "2026-11-26", "today"),  # a clock set back never shows a negative age
])
def test_days_ago(day: str, today: str, text: str) -> None:
    assert days_ago(day, today) == text


def test_age_across_a_year() -> None:
    assert age_in_days("2025-12-31", "2026-01-01") == 1
