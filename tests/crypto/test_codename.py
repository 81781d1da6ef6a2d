from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

import crypto.codename as codename_module
from crypto.codename import (
    CODENAME_WORDS,
    WORDLIST_SIZE,
    generate_codename,
    normalize_codename,
    wordlist,
)
from crypto.errors import CryptoError, InvalidCodename

WORDS = wordlist()
CANONICAL = "abacus zoom t-shirt yo-yo quiver vanilla shrug"


def test_wordlist_is_the_eff_large_list() -> None:
    assert len(WORDS) == WORDLIST_SIZE == 7776
    assert len(set(WORDS)) == 7776
    assert (WORDS[0], WORDS[-1]) == ("abacus", "zoom")
    assert all(re.fullmatch(r"[a-z]+(-[a-z]+)?", w) for w in WORDS)


def test_hyphenated_words_cannot_be_misread() -> None:
    # normalize_codename joins pieces greedily; that is only sound if no
    # hyphenated word starts with a list word, and no joined-up spelling is one.
    hyphenated = [w for w in WORDS if "-" in w]
    assert sorted(hyphenated) == ["drop-down", "felt-tip", "t-shirt", "yo-yo"]
    words = set(WORDS)
    for word in hyphenated:
        first, _ = word.split("-")
        assert first not in words
    # The one joined-up spelling that is also a list word is read as the same word.
    assert {w.replace("-", "") for w in hyphenated} & words == {"yoyo"}


@pytest.mark.parametrize(
    ("typed", "word"),
    [("yoyo", "yo-yo"), ("yo-yo", "yo-yo"), ("tshirt", "t-shirt"), ("dropdown", "drop-down")],
)
def test_hyphenated_words_can_be_typed_without_the_hyphen(typed: str, word: str) -> None:
    rest = " abacus zoom quiver vanilla shrug dwelling"
    assert normalize_codename(typed + rest) == word + rest


def test_damaged_wordlist_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(codename_module, "_WORDLIST_SHA256", "0" * 64)
    wordlist.cache_clear()
    try:
        with pytest.raises(CryptoError, match="damaged"):
            wordlist()
    finally:
        monkeypatch.undo()
        wordlist.cache_clear()
    assert len(wordlist()) == 7776


def test_generated_codename_is_seven_list_words_in_canonical_form() -> None:
    name = generate_codename()
    assert len(name.split(" ")) == CODENAME_WORDS
    assert normalize_codename(name) == name


def test_ten_thousand_codenames_are_distinct_and_use_only_list_words() -> None:
    names = [generate_codename() for _ in range(10_000)]
    assert len(set(names)) == len(names)
    words = set(WORDS)
    used = {w for name in names for w in name.split(" ")}
    assert used <= words
    assert all(normalize_codename(name) == name for name in names)
    # 70,000 uniform draws miss a given word with chance (1 - 1/7776)**70000
    # ≈ 1.2e-4, so about one word in the whole list is expected to be missing:
    # a generator that draws from only part of the list fails here.
    assert len(used) > 7700


@pytest.mark.parametrize(
    "typed",
    [
        CANONICAL,
        CANONICAL.upper(),
        "  abacus   zoom t-shirt yo-yo quiver vanilla shrug  ",
        "abacus\tzoom\nt-shirt\r\nyo-yo quiver vanilla shrug\n",
        "abacus-zoom-t-shirt-yo-yo-quiver-vanilla-shrug",
        "Abacus Zoom TShirt YoYo Quiver Vanilla Shrug",
        "abacus zoom t shirt yo yo quiver vanilla shrug",
        "abacus \u2013 zoom \u2014 t\u2010shirt yo\u2011yo quiver vanilla shrug",
        "\uff21\uff22\uff21\uff23\uff35\uff33 zoom t-shirt yo-yo quiver vanilla shrug",
        "abacus\u00a0zoom\u3000t-shirt yo-yo quiver vanilla shrug",
    ],
)
def test_spelling_variants_normalise_to_the_same_codename(typed: str) -> None:
    assert normalize_codename(typed) == CANONICAL


@given(
    words=st.lists(st.sampled_from(WORDS), min_size=7, max_size=7),
    separators=st.lists(st.sampled_from([" ", "  ", "\t", "\n", "-", " - ", "--"]), min_size=6),
    upper=st.lists(st.booleans(), min_size=7, max_size=7),
)
def test_any_spacing_and_case_normalise_to_the_canonical_form(
    words: list[str], separators: list[str], upper: list[bool]
) -> None:
    typed = words[0].upper() if upper[0] else words[0]
    for word, separator, up in zip(words[1:], separators, upper[1:], strict=False):
        typed += separator + (word.upper() if up else word)
    assert normalize_codename(typed) == " ".join(words)


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("", "this has 0"),
        ("abacus zoom t-shirt yo-yo quiver vanilla", "this has 6"),
        (CANONICAL + " abacus", "this has 8"),
        ("drop-down felt-tip yo-yo t-shirt abacus zoom", "this has 6"),
        ("abacus zoom qwertyuiop yo-yo quiver vanilla shrug", "word 3 is not"),
        ("abacus zoom t-shirt yo-yo quiver vanilla shrugs", "word 7 is not"),
        ("abacus zoom drop yo-yo quiver vanilla shrug", "word 3 is not"),
        ("abacus zoom t-shirt yo-yo quiver vanilla shrug\x00", "word 7 is not"),
        ("a" * 600, "far too long"),
    ],
)
def test_non_codenames_are_refused(typed: str, message: str) -> None:
    with pytest.raises(InvalidCodename, match=message):
        normalize_codename(typed)


def test_refusal_never_repeats_the_input() -> None:
    typed = "abacus zoom quiver vanilla shrug dwelling qwertyuiop"
    with pytest.raises(InvalidCodename) as caught:
        normalize_codename(typed)
    message = str(caught.value).lower()
    for word in typed.split():
        assert word not in message


def test_invalid_codename_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="7 words"):
        normalize_codename("abacus")
