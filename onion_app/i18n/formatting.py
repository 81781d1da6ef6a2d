"""Numbers, dates and durations in the reader's conventions and digits.

Every function here reads the locale of the request being served, at call
time, so one process serves each visitor in their own language.
"""

from __future__ import annotations

import datetime
import functools
import math
import unicodedata

from babel import Locale
from babel.dates import format_date, format_timedelta
from babel.numbers import format_decimal

from onion_app.domain.days import age_in_days
from onion_app.i18n.catalogues import translations
from onion_app.i18n.chooser import locale_for_request

# Numbers and dates in the reader's conventions. Babel groups numbers the
# locale's way but writes Latin digits whatever the locale; Persian readers
# expect their own (CLDR's default numbering system for fa), so digits are
# mapped after formatting, for counts and dates alike.
_DIGITS = {"arab": 0x0660, "arabext": 0x06F0}  # where each system's zero is


@functools.cache
def _digits(locale: str) -> dict[int, int]:
    zero = _DIGITS.get(Locale.parse(locale).default_numbering_system)
    if zero is None:
        return {}
    return {ord("0") + d: zero + d for d in range(10)}


def native_digits(text: str) -> str:
    return text.translate(_digits(_locale()))


def _locale() -> str:
    # The language this request's words are in (i18n.catalogues says why
    # not Flask-Babel's own idea of it).
    return locale_for_request()


def number(value: int) -> str:
    """A count in the reader's digits and grouping: 20,000, 20 000, or Persian digits."""
    return _number(value, _locale())


def day(value: str) -> str:
    """A stored day (YYYY-MM-DD) as the reader writes dates."""
    return _day(value, _locale())


# Babel takes a third of a millisecond to format one number or date; a page
# shows the same few counts and days again and again. Only counts and days
# (metadata, never content) are kept, by value and locale, and not many.
@functools.lru_cache(maxsize=4096)
def _number(value: int, locale: str) -> str:
    return format_decimal(value, locale=locale, numbering_system="default").translate(
        _digits(locale))


@functools.lru_cache(maxsize=4096)
def _day(value: str, locale: str) -> str:
    formatted = format_date(datetime.date.fromisoformat(value), "medium", locale=locale)
    return formatted.translate(_digits(locale))


def duration(value: datetime.timedelta) -> str:
    """A length of time: "30 minutes", "8 hours", in the reader's words and digits."""
    return native_digits(format_timedelta(value, locale=_locale()))


def days_ago(value: str, today: str) -> str:
    """How old a day is: "today", "3 days ago", in the reader's words and digits."""
    age = age_in_days(value, today)
    if age == 0:
        return str(translations().ugettext("today"))
    # An infinite threshold keeps whole days: "45 days ago", never "2 months ago".
    formatted = format_timedelta(datetime.timedelta(days=-age), granularity="day",
                                 threshold=math.inf, add_direction=True,
                                 locale=_locale())
    return native_digits(formatted)



# Alphabetical order as a reader of each language expects it, where code-point
# order differs: Persian letters added to the Arabic script (pe, che, zhe,
# gaf) sort among their neighbours, the Ukrainian and Turkish letters beyond
# the Russian or Latin core after their base letters. Other languages sort by
# their letters with accents set aside; Chinese names by code point (a real
# collation would need ICU).
_ALPHABETS = {
    "fa": "آاأبپتثجچحخدذرزژسشصضطظعغفقکكگلمنوهیي",
    "ar": "آأإابتثجحخدذرزسشصضطظعغفقكلمنهويى",
    "ru": "абвгдеёжзийклмнопрстуфхцчшщъыьэюя",
    "uk": "абвгґдеєжзиіїйклмнопрстуфхцчшщьюя",
    "tr": "abcçdefgğhıijklmnoöprsştuüvyz",  # noqa: RUF001  (the dotless i is a letter)
}


def _sort_key(language: str, name: str) -> tuple[int, ...]:
    alphabet = _ALPHABETS.get(language)
    if language == "tr":  # dotted and dotless i are two letters in Turkish
        name = name.replace("I", "\u0131").replace("\u0130", "i")
    folded = unicodedata.normalize("NFC", name.lower())
    if alphabet is None:
        folded = "".join(ch for ch in unicodedata.normalize("NFKD", folded)
                         if not unicodedata.combining(ch))
        alphabet = ""
    return tuple(alphabet.index(ch) if ch in alphabet else 1000 + ord(ch) for ch in folded)


def language_names(names: dict[str, str]) -> list[tuple[str, str]]:
    """Languages by code, named and ordered in the reader's language.

    :param names: each language's own name (its autonym), used where the
        reader's language has no name for it
    :returns: ``(code, name)`` pairs in the reader's alphabetical order
    """
    return list(_language_names(tuple(names.items()), _locale()))


# Naming and sorting 180 languages took a millisecond of every form page; the
# names are the same for every visitor in one locale.
@functools.lru_cache(maxsize=64)
def _language_names(names: tuple[tuple[str, str], ...],
                    locale: str) -> tuple[tuple[str, str], ...]:
    known = Locale.parse(locale).languages
    named = [(code, known.get(code.replace("-", "_"), autonym)) for code, autonym in names]
    return tuple(sorted(named, key=lambda pair: _sort_key(locale.split("_")[0], pair[1])))
