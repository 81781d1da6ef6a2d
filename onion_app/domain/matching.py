"""Who may read a request: a pure function from its needs to ranked volunteers.

A vetted, available volunteer matches when their skills overlap the request's
and their languages overlap the requester's (DESIGN §5). Among matches, those
with the fewest open claims come first, then those idle longest, so new
requests spread across volunteers instead of piling on the most eager.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

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
