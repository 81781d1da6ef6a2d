"""Who may read a request: matched volunteers, ranked, and triage volunteers.

A vetted, available volunteer matches when their skills overlap the request's
and their languages overlap the requester's (DESIGN §5). Among matches, those
with the fewest open claims come first, then those idle longest, so new
requests spread across volunteers instead of piling on the most eager.

:func:`choose` asks the store, which ranks in SQL (``store.matching``);
:func:`matches` and :func:`rank` state the same rule over candidates in
memory, and are what the SQL is checked against (tests/test_store_matching.py,
bench/matching_bench.py). When fewer than the minimum match, a request also
goes to a few triage volunteers, who pass it on (issue 13).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from onion_app.config import Config
from onion_app.store import matching as store
from onion_app.store.connection import Connection
from onion_app.store.rows import Candidate


@dataclass(frozen=True)
class Needs:
    """What a request asks for."""

    skills: frozenset[str]
    languages: frozenset[str]


def matches(needs: Needs, candidate: Candidate) -> bool:
    """Whether this volunteer may be offered this request."""
    return (
        candidate.vetted
        and candidate.available
        and bool(needs.skills & candidate.skills)
        and bool(needs.languages & candidate.languages)
    )


def rank(needs: Needs, candidates: Iterable[Candidate], limit: int,
         exclude: Iterable[int] = ()) -> list[Candidate]:
    """The volunteers to seal a request to, best first, at most ``limit``.

    :param exclude: volunteer ids that already read the request
    :returns: matching candidates ordered by open claims, then longest idle,
        then id (so equal candidates rank the same way every time)
    """
    if limit <= 0:
        return []
    skip = set(exclude)
    eligible = [c for c in candidates if c.volunteer_id not in skip and matches(needs, c)]
    eligible.sort(key=lambda c: (c.open_claims, c.last_active_on, c.volunteer_id))
    return eligible[:limit]


@dataclass(frozen=True)
class Policy:
    """How widely a request is shared (HAVEN_MATCH_LIMIT, HAVEN_MATCH_MIN,
    HAVEN_TRIAGE_LIMIT, HAVEN_WIDEN_AFTER_DAYS)."""

    match_limit: int
    match_min: int = 1
    triage_limit: int = 3
    widen_after_days: int = 3

    @classmethod
    def of(cls, config: Config) -> Policy:
        return cls(config.match_limit, config.match_min, config.triage_limit,
                   config.widen_after_days)


@dataclass(frozen=True)
class Chosen:
    """New readers for a request: those who match it, and triage volunteers."""

    matched: list[Candidate]
    triage: list[Candidate]


def choose(conn: Connection, needs: Needs, policy: Policy, room: int, *,
           request_id: int | None = None, matched_already: int = 0,
           triage_already: int = 0) -> Chosen:
    """The next best matches (at most ``room``), and, when the request would
    still have fewer than ``policy.match_min`` matched readers, triage
    volunteers up to ``policy.triage_limit`` in all.

    :param request_id: a stored request, whose current readers are left out
    """
    matched = store.ranked(conn, needs.skills, needs.languages, room, request_id=request_id)
    triage: list[Candidate] = []
    if matched_already + len(matched) < policy.match_min:
        taken = {c.volunteer_id for c in matched}
        triage = [c for c in store.triage_ranked(conn, needs.languages,
                                                 policy.triage_limit + len(taken),
                                                 request_id=request_id)
                  if c.volunteer_id not in taken][:max(policy.triage_limit - triage_already, 0)]
    return Chosen(matched, triage)
