"""Codenames: seven words drawn uniformly from the EFF large wordlist.

A codename is the only secret a requester holds: their key pair is derived
from it (:mod:`crypto.requester`). Seven words from 7,776 carry about 90 bits,
enough that the codename needs no stretching to resist guessing; the KDF in
front of it is a second line of defence, not the first.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.resources
import secrets
import unicodedata

from crypto.errors import CryptoError, InvalidCodename

__all__ = [
    "CODENAME_WORDS",
    "WORDLIST_SIZE",
    "generate_codename",
    "normalize_codename",
    "wordlist",
]

#: Number of words in a codename.
CODENAME_WORDS = 7
#: Number of words on the list (6**5, the EFF large list).
WORDLIST_SIZE = 7776

_WORDLIST_SHA256 = "6d557f0693958fb5e650b68b5bee585eb82cf4da32965505c789e924743bc522"
# Longest legitimate input is seven 9-letter words with generous spacing; a cap
# keeps NFKC and splitting cheap on whatever a stranger pastes into the form.
_MAX_INPUT_CHARS = 512


@functools.cache
def wordlist() -> tuple[str, ...]:
    """Return the 7,776 words, in list order.

    :raises CryptoError: if the shipped ``wordlist.txt`` is not the file it
        should be (its SHA-256 is pinned), because drawing codenames from a
        damaged list would silently weaken all of them.
    """
    raw = importlib.resources.files("crypto").joinpath("wordlist.txt").read_bytes()
    digest = hashlib.sha256(raw).hexdigest()
    if digest != _WORDLIST_SHA256:
        raise CryptoError("crypto/wordlist.txt is damaged: its SHA-256 does not match")
    words = tuple(raw.decode("ascii").splitlines())
    if len(words) != WORDLIST_SIZE or len(set(words)) != WORDLIST_SIZE:
        raise CryptoError(f"crypto/wordlist.txt must hold {WORDLIST_SIZE} distinct words")
    return words


@functools.cache
def _word_set() -> frozenset[str]:
    return frozenset(wordlist())


@functools.cache
def _joined_forms() -> dict[str, str]:
    # People copying a codename by hand drop hyphens, so "tshirt" must mean
    # "t-shirt". The list holds both "yo-yo" and "yoyo"; they are taken as one
    # word (spelled "yo-yo"), which costs 0.0003 bits per word and spares a
    # requester being locked out by a dropped hyphen.
    return {w.replace("-", ""): w for w in wordlist() if "-" in w}


def generate_codename() -> str:
    """Return a new codename: seven words chosen with :mod:`secrets`, joined by spaces.

    The result is already in the form :func:`normalize_codename` returns.

    .. warning:: The codename is the requester's only key. Show it once, never
       log it, never store it.
    """
    words = wordlist()
    joined = _joined_forms()
    drawn = (secrets.choice(words) for _ in range(CODENAME_WORDS))
    return " ".join(joined.get(word, word) for word in drawn)


def normalize_codename(text: str) -> str:
    """Return the canonical form of a codename typed by a person.

    Case is folded, Unicode is normalised (NFKC), and any run of whitespace or
    dashes separates words, so ``"Abacus  ZOOM-yo-yo …"`` is accepted; the four
    hyphenated list words may also be typed without their hyphen. The
    canonical form is the seven list words in lower case joined by single
    spaces (``yoyo`` spelled ``yo-yo``); it is what keys are derived from.

    :raises InvalidCodename: if the text is not seven words from the list. The
        message never repeats the text.
    """
    if len(text) > _MAX_INPUT_CHARS:
        raise InvalidCodename(f"a codename is {CODENAME_WORDS} words; this text is far too long")
    folded = unicodedata.normalize("NFKC", text).casefold()
    pieces = "".join(" " if _is_dash(ch) else ch for ch in folded).split()
    words = _join_pieces(pieces)
    if len(words) != CODENAME_WORDS:
        raise InvalidCodename(f"a codename is {CODENAME_WORDS} words; this has {len(words)}")
    return " ".join(words)


def _is_dash(ch: str) -> bool:
    return unicodedata.category(ch) == "Pd"


def _join_pieces(pieces: list[str]) -> list[str]:
    # Hyphens were turned into separators, so "t-shirt" arrives as "t", "shirt".
    # Joining greedily is unambiguous because no hyphenated word's first half is
    # itself a list word (WORDLIST.md; tests check it).
    known = _word_set()
    joined = _joined_forms()
    words: list[str] = []
    i = 0
    while i < len(pieces):
        pair = "-".join(pieces[i : i + 2])
        if i + 1 < len(pieces) and pair in known:
            words.append(pair)
            i += 2
            continue
        piece = pieces[i]
        if piece in joined:
            words.append(joined[piece])
        elif piece in known:
            words.append(piece)
        else:
            raise InvalidCodename(f"word {len(words) + 1} is not in Haven's word list")
        i += 1
    return words
