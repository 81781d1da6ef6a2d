"""The rows the store hands out: frozen dataclasses, never driver rows.

Skills, languages and flag reasons arrive as sets, not comma-joined text, so
no view or template splits a string. Every field is converted once, here:
blobs to ``bytes``, flags to ``bool``, aggregated text to ``frozenset``.
"""

from __future__ import annotations

import dataclasses
import functools
import typing
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")

# A query's bounds, bound as values the query planner cannot see. SQLite
# (3.53 here) reads a bare ``LIMIT ?`` when it plans, so every binding marks
# the statement stale and the next run compiles it again: the requester's
# list, with its five subqueries, was compiled at every page view, and
# matching three times per submission. A CAST is an expression, not a bare
# parameter, and the statement stays in the connection's cache.
LIMIT = "LIMIT CAST(? AS INTEGER)"
PAGE = f"{LIMIT} OFFSET CAST(? AS INTEGER)"


@dataclasses.dataclass(frozen=True)
class Requester:
    """A requester's account: only the lookup's result, never the codename."""

    id: int
    public_key: bytes


@dataclasses.dataclass(frozen=True)
class Purged:
    """What one retention purge deleted: a count of requests, and the
    requester accounts left empty and deleted (whose sessions must end)."""

    requests: int
    requesters: frozenset[int]


@dataclasses.dataclass(frozen=True)
class RequestRow:
    """A request's metadata as a list or a case page shows it (no ciphertext)."""

    id: int
    public_id: str
    status: str
    urgency: str
    region: str
    claimed_by: int | None
    created_on: str
    updated_on: str
    skills: frozenset[str]
    languages: frozenset[str]
    claimed_handle: str | None
    unread: int
    volunteer_readers: int = 0
    # Whether this volunteer has ever opened it (the dashboard marks it new
    # until then). Read only on the volunteer's side.
    opened: bool = False
    # Which derivation made the requester's key for this request; None: the
    # request is sealed to the account key. Read only on the requester's side.
    requester_key_version: int | None = None
    # On a volunteer's dashboard: sealed to them for triage, not as a match.
    for_triage: bool = False
    # On a volunteer's dashboard: 2 open and life at risk, 1 open and urgent,
    # else 0 (the reader row's priority, which the dashboard pages by).
    priority: int = 0


@dataclasses.dataclass(frozen=True)
class RequestRef:
    """Just enough to name a request: its row id and its public id (and, where
    the requester opens it, which requester key it is sealed to)."""

    id: int
    public_id: str
    requester_key_version: int | None = None


@dataclasses.dataclass(frozen=True)
class ThreadRow:
    """One message of a thread as stored: sealed body, and one reader's stanza."""

    id: int
    public_id: str
    from_requester: bool
    created_on: str
    author: str | None
    stanza: bytes | None
    body: bytes


@dataclasses.dataclass(frozen=True)
class Volunteer:
    """A volunteer's account (operators are volunteers with ``is_operator``)."""

    id: int
    public_id: str
    handle: str
    public_key: bytes
    wrapped_key: bytes | None
    passphrase_hash: bytes
    status: str
    available: bool
    totp_secret: str | None
    totp_confirmed: bool
    is_operator: bool
    availability: str
    bio: str
    references_text: str
    vetting_note: str | None
    created_on: str
    last_active_on: str
    skills: frozenset[str]
    languages: frozenset[str]
    # The ML-KEM-768 half of the volunteer's key; None until they gain one.
    mlkem_public_key: bytes | None = None
    # Offered to triage requests that nobody else matches (issue 13).
    triage: bool = False


@dataclasses.dataclass(frozen=True)
class Referral:
    """Someone a request may be referred to."""

    public_id: str
    handle: str


@dataclasses.dataclass(frozen=True)
class AuditLine:
    """One line of the audit log: a day, who, what, which object."""

    day: str
    actor: str
    action: str
    object: str


@dataclasses.dataclass(frozen=True)
class RequestMetadata:
    """What an operator may see of a request: never content."""

    id: int
    public_id: str
    status: str
    urgency: str
    created_on: str
    updated_on: str
    skills: frozenset[str]
    languages: frozenset[str]
    readers: int
    flags: frozenset[str]


@dataclasses.dataclass(frozen=True)
class Count:
    """One line of a count: a name (a skill, a status, a week) and a number."""

    name: str
    n: int


@dataclasses.dataclass(frozen=True)
class Candidate:
    """A volunteer as matching sees them: metadata only, never content."""

    volunteer_id: int
    public_key: bytes
    skills: frozenset[str]
    languages: frozenset[str]
    vetted: bool
    available: bool
    open_claims: int
    last_active_on: str  # YYYY-MM-DD; sorts as it reads
    # The ML-KEM-768 half of their key: they are sealed to hybrid when present.
    mlkem_public_key: bytes | None = None


def one(cls: type[T], row: Any) -> T | None:
    """``row`` as a ``cls``, or None when the query found nothing."""
    return None if row is None else _converter_of(cls, row)(row)


def many(cls: type[T], rows: Any) -> list[T]:
    """Every row of a query as a ``cls``."""
    found = []
    convert = None
    for row in rows:
        if convert is None:
            convert = _converter_of(cls, row)
        found.append(convert(row))
    return found


def _converter_of(cls: type[T], row: Any) -> Callable[[Any], T]:
    convert: Callable[[Any], T] = _plan(cls, tuple(row.keys()))  # type: ignore[arg-type]  # classes hash
    return convert


# How a class is made from a query's columns is worked out once per class and
# set of columns, not field by field for every row: a list of ten requests
# spent a third of a millisecond looking up columns it did not select (each
# an exception) and comparing type hints.
@functools.lru_cache(maxsize=512)
def _plan(cls: Any, columns: tuple[str, ...]) -> Callable[[Any], Any]:
    where: dict[str, int] = {}
    for position, column in enumerate(columns):
        where.setdefault(column.lower(), position)  # as a Row finds a name: the first
    # A column the query does not select keeps the field's default.
    steps = tuple((name, where[name.lower()], _converter(kind))
                  for name, kind in _fields(cls) if name.lower() in where)

    def convert(row: Any) -> Any:
        return cls(**{name: conversion(row[position]) for name, position, conversion in steps})

    return convert


@functools.cache
def _fields(cls: Any) -> tuple[tuple[str, Any], ...]:
    hints = typing.get_type_hints(cls)
    return tuple((f.name, hints[f.name]) for f in dataclasses.fields(cls))


def _converter(kind: Any) -> Callable[[Any], Any]:
    """What turns a stored value into a field of type ``kind``; None stays None,
    but for a set (no skills: an empty set)."""
    if kind == frozenset[str]:
        return _names
    for made, kinds in ((bool, (bool,)), (bytes, (bytes, bytes | None)),
                        (int, (int, int | None))):
        if kind in kinds:
            return functools.partial(_unless_none, made)
    return _unchanged


def _names(value: Any) -> frozenset[str]:
    return frozenset() if value is None else frozenset(str(value).split(",")) - {""}


def _unless_none(made: Callable[[Any], Any], value: Any) -> Any:
    return None if value is None else made(value)


def _unchanged(value: Any) -> Any:
    return value
