"""Staff handles: one spelling, one script, and never a look-alike of another.

A handle is what operators, the audit log and requesters see. Two handles that
render the same (``vicky`` and ``v\u0456cky`` with a Cyrillic i, or ``opboss`` and
``opboss`` plus a newline) would let one person pass for another, so a new
handle is NFKC-normalised, limited to one script, and refused when its
confusable skeleton (Unicode TR39) equals an existing handle's.

The Unicode data lives beside this module in ``unicode/``: Scripts.txt (15.0)
and confusables.txt (13.0), cut down to the fields used here.
"""

from __future__ import annotations

import bisect
import functools
import re
import unicodedata
from importlib import resources

from onion_app.store import staff
from onion_app.store.connection import Connection

HANDLE_MIN = 3
HANDLE_MAX = 40
#: Letters and digits of any script, dots, dashes, underscores: the whole string.
HANDLE_PATTERN = re.compile(r"[\w.-]+")

# Scripts that mix with every other: digits, punctuation, combining marks.
_ANY_SCRIPT = frozenset({"Common", "Inherited"})
# TR39's augmented scripts: writing systems that mix scripts by design, so a
# Japanese or Korean handle counts as one script.
_MIXTURES = (
    frozenset({"Han", "Hiragana", "Katakana"}),
    frozenset({"Han", "Hangul"}),
    frozenset({"Han", "Bopomofo"}),
)


def normalise(handle: str) -> str:
    """The handle as Haven stores and compares it: NFKC, so that compatibility
    forms (full-width letters, ligatures, superscripts) become their plain letters."""
    return unicodedata.normalize("NFKC", handle)


def well_formed(handle: str) -> bool:
    """Whether a (normalised) handle is letters, digits, ``.``, ``-`` and ``_`` only.

    ``fullmatch``, not ``match`` with ``$``: ``$`` also matches before a final
    newline, which let ``"opboss\\n"`` through.
    """
    return HANDLE_PATTERN.fullmatch(handle) is not None


def single_script(handle: str) -> bool:
    """Whether the letters of ``handle`` come from one script (or one of TR39's
    mixtures, such as Japanese); digits and punctuation go with any."""
    found = {_script(ch) for ch in handle} - _ANY_SCRIPT
    return len(found) <= 1 or any(found <= mixture for mixture in _MIXTURES)


def skeleton(handle: str) -> str:
    """TR39's skeleton of the case-folded handle: two handles with one skeleton
    look alike: ``skeleton("v\\u0456cky") == skeleton("Vicky")``."""
    folded = unicodedata.normalize("NFD", normalise(handle).casefold())
    prototypes = _prototypes()
    return unicodedata.normalize("NFD", "".join(prototypes.get(ch, ch) for ch in folded))


def look_alike_taken(conn: Connection, handle: str) -> bool:
    """Whether an existing handle is this one or looks like it.

    Accounts made before handles had skeletons stored have none; their
    skeletons are worked out here, so they are protected too.
    """
    mine = skeleton(handle)
    if staff.skeleton_taken(conn, mine):
        return True
    return any(skeleton(old) == mine for old in staff.handles_without_skeleton(conn))


def _script(ch: str) -> str:
    starts, ends, names = _script_table()
    at = bisect.bisect_right(starts, ord(ch)) - 1
    return names[at] if at >= 0 and ord(ch) <= ends[at] else "Unknown"


@functools.cache
def _script_table() -> tuple[list[int], list[int], list[str]]:
    starts: list[int] = []
    ends: list[int] = []
    names: list[str] = []
    for line in _data_lines("scripts.txt"):
        span, name = line.split()
        first, _, last = span.partition("..")
        starts.append(int(first, 16))
        ends.append(int(last or first, 16))
        names.append(name)
    return starts, ends, names


@functools.cache
def _prototypes() -> dict[str, str]:
    table = {}
    for line in _data_lines("confusables.txt"):
        source, *prototype = line.split()
        table[chr(int(source, 16))] = "".join(chr(int(cp, 16)) for cp in prototype)
    return table


def _data_lines(name: str) -> list[str]:
    text = resources.files("onion_app.domain").joinpath("unicode", name).read_text("utf-8")
    return [line for line in text.splitlines() if line and not line.startswith("#")]
