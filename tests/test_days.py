from __future__ import annotations

import pytest
from flask import Flask

from onion_app import i18n as language
from onion_app.domain.days import age_in_days


@pytest.mark.parametrize(("lang", "day", "today", "text"), [
    ("en", "2026-11-26", "2026-11-26", "today"),
    ("en", "2026-11-25", "2026-11-26", "1 day ago"),
    ("en", "2026-10-27", "2026-11-26", "30 days ago"),  # whole days, never "1 month"
    ("en", "2026-11-27", "2026-11-26", "today"),  # a clock set back never shows a negative age
    ("fa", "2026-11-23", "2026-11-26", "۳ روز پیش"),
    ("ru", "2026-11-24", "2026-11-26", "2 дня назад"),
    ("fr", "2026-11-26", "2026-11-26", "aujourd'hui"),
])
def test_days_ago(public_app: Flask, lang: str, day: str, today: str, text: str) -> None:
    with public_app.test_request_context(headers={"Cookie": f"haven_public_language={lang}"}):
        assert language.days_ago(day, today) == text


@pytest.mark.parametrize(("lang", "text"), [
    ("en", "Nov 26, 2026"), ("fa", "۲۶ نوامبر ۲۰۲۶"), ("de-not-offered", "Nov 26, 2026"),
])
def test_a_day_in_the_readers_conventions(public_app: Flask, lang: str, text: str) -> None:
    with public_app.test_request_context(headers={"Cookie": f"haven_public_language={lang}"}):
        assert language.day("2026-11-26") == text


def test_counts_in_the_readers_digits(public_app: Flask) -> None:
    with public_app.test_request_context(headers={"Cookie": "haven_public_language=fa"}):
        assert language.number(20_000) == "\u06f2\u06f0\u066c\u06f0\u06f0\u06f0"
    with public_app.test_request_context():
        assert language.number(20_000) == "20,000"


def test_age_across_a_year() -> None:
    assert age_in_days("2025-12-31", "2026-01-01") == 1
