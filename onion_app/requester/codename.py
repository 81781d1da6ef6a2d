"""Comparing a codename typed back with the one it should be, word by word.

A requester copies seven words onto paper and types them back; one slip must
say which word to look at, not just "wrong". Case, extra spaces and dropped
hyphens are forgiven here as :func:`crypto.codename.normalize_codename`
forgives them, so nothing this module calls a match is refused later.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import secrets
import unicodedata
from dataclasses import dataclass

from crypto.codename import wordlist

__all__ = ["Mismatch", "compare", "compare_digests", "unknown_words", "word_digests",
           "words_of"]

# One key per process for the practice digests: they live in a session in
# memory, and a restart ends every session anyway.
_PRACTICE_KEY = secrets.token_bytes(32)


@dataclass(frozen=True)
class Mismatch:
    """How a typed codename differs from the expected one.

    ``words`` are the 1-based positions that differ when both have the same
    number of words; otherwise ``typed`` (how many words were typed) differs
    from ``expected``, and ``words`` holds the first position that differs.
    """

    words: tuple[int, ...]
    typed: int
    expected: int

    @property
    def count_differs(self) -> bool:
        return self.typed != self.expected


def words_of(text: str) -> list[str]:
    """The words of ``text`` as compared: case folded, NFKC, hyphens dropped.

    Long input is cut, since it is a visitor's text: a codename is far shorter.
    """
    folded = unicodedata.normalize("NFKC", text[:512]).casefold()
    return ["".join(ch for ch in word if unicodedata.category(ch) != "Pd")
            for word in folded.split()]


def compare(typed: str, expected: str) -> Mismatch | None:
    """``None`` when ``typed`` is ``expected`` up to case, spacing and hyphens."""
    return _compare(words_of(typed), words_of(expected))


def _compare(typed: list[str], expected: list[str]) -> Mismatch | None:
    if typed == expected:
        return None
    if len(typed) == len(expected):
        wrong = tuple(i + 1 for i, (a, b) in enumerate(zip(typed, expected, strict=True))
                      if a != b)
        return Mismatch(wrong, len(typed), len(expected))
    first = next((i + 1 for i, (a, b) in enumerate(zip(typed, expected, strict=False))
                  if a != b), min(len(typed), len(expected)) + 1)
    return Mismatch((first,), len(typed), len(expected))


@functools.cache
def _known() -> frozenset[str]:
    return frozenset(word.replace("-", "") for word in wordlist())


def unknown_words(typed: str) -> tuple[int, ...]:
    """The 1-based positions of typed words that are not on Haven's list.

    The list is public, so saying which typed word is not on it gives away
    nothing; at sign-in it is the one clue Haven can give about a typo.
    """
    return tuple(i + 1 for i, word in enumerate(words_of(typed)) if word not in _known())


def word_digests(codename: str) -> tuple[bytes, ...]:
    """Keyed digests of each word, for a practice round later in the session.

    The session then holds no codename, yet can say which word a second
    typing got wrong.
    """
    return tuple(_digest(word) for word in words_of(codename))


def compare_digests(typed: str, digests: tuple[bytes, ...]) -> Mismatch | None:
    """:func:`compare` against :func:`word_digests` of the expected codename."""
    typed_digests = [_digest(word) for word in words_of(typed)]
    same = (len(typed_digests) == len(digests)
            and all(hmac.compare_digest(a, b) for a, b in zip(typed_digests, digests,
                                                                strict=True)))
    if same:
        return None
    # Positions are compared as opaque digests: equal digests, equal words.
    return _compare([d.hex() for d in typed_digests], [d.hex() for d in digests])


def _digest(word: str) -> bytes:
    return hashlib.blake2b(word.encode(), key=_PRACTICE_KEY, digest_size=16).digest()
