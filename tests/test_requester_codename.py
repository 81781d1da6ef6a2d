"""Word-by-word comparison of a typed-back codename (onion_app/requester/codename.py)."""

from __future__ import annotations

import pytest

from onion_app.requester.codename import (
    Mismatch,
    compare,
    compare_digests,
    unknown_words,
    word_digests,
)

SHOWN = "abacus t-shirt zoom yo-yo candle ferry willow"


@pytest.mark.parametrize("typed", [
    SHOWN,
    SHOWN.upper(),
    "  abacus   T-Shirt zoom\tyo-yo candle ferry   willow ",
    "abacus tshirt zoom yoyo candle ferry willow",  # hyphens dropped when copying
    "\uff21\uff22\uff21\uff23\uff35\uff33 t-shirt zoom yo-yo candle ferry willow",  # full-width

])
def test_case_spacing_and_hyphens_do_not_matter(typed: str) -> None:
    assert compare(typed, SHOWN) is None
    assert compare_digests(typed, word_digests(SHOWN)) is None


@pytest.mark.parametrize(("typed", "expected"), [
    ("abacus t-shirt zoon yo-yo candle ferry willow", Mismatch((3,), 7, 7)),
    ("abacus t-shirt zoom yo-yo candle fery wilow", Mismatch((6, 7), 7, 7)),
    ("abacus t-shirt yo-yo candle ferry willow", Mismatch((3,), 6, 7)),
    ("abacus t-shirt zoom yo-yo candle ferry willow willow", Mismatch((8,), 8, 7)),
    ("", Mismatch((1,), 0, 7)),
])
def test_the_words_that_differ_are_named_by_number(typed: str, expected: Mismatch) -> None:
    assert compare(typed, SHOWN) == expected
    assert compare_digests(typed, word_digests(SHOWN)) == expected


def test_digests_hold_no_word() -> None:
    digests = word_digests(SHOWN)
    assert len(digests) == 7
    assert not any(word.encode() in b"".join(digests) for word in SHOWN.split())
    assert len(set(digests)) == 7


def test_count_differs_only_when_the_number_of_words_does() -> None:
    assert Mismatch((2,), 6, 7).count_differs
    assert not Mismatch((2,), 7, 7).count_differs


def test_words_not_on_the_list_are_named() -> None:
    assert unknown_words(SHOWN) == ()
    assert unknown_words("Abacus tshirt zoomm yoyo candel") == (3, 5)
