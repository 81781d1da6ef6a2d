from __future__ import annotations

import pytest

from onion_app.domain.matching import Candidate, Needs, matches, rank

NEEDS = Needs(skills=frozenset({"legal", "press"}), languages=frozenset({"fa", "en"}))


def volunteer(volunteer_id: int, *, skills: set[str] | None = None,
              languages: set[str] | None = None, vetted: bool = True, available: bool = True,
              open_claims: int = 0, last_active_on: str = "2026-06-01") -> Candidate:
    return Candidate(
        volunteer_id=volunteer_id, public_key=bytes(32),
        skills=frozenset(skills if skills is not None else {"legal"}),
        languages=frozenset(languages if languages is not None else {"fa"}),
        vetted=vetted, available=available, open_claims=open_claims,
        last_active_on=last_active_on,
    )


@pytest.mark.parametrize(("candidate", "expected"), [
    (volunteer(1), True),
    (volunteer(2, skills={"press", "art"}), True),
    (volunteer(3, skills={"art"}), False),                       # no skill overlap
    (volunteer(4, languages={"ru"}), False),                     # no language overlap
    (volunteer(5, languages={"en", "ru"}), True),
    (volunteer(6, vetted=False), False),                         # an applicant
    (volunteer(7, available=False), False),                      # paused
    (volunteer(8, skills=set()), False),
])
def test_matches(candidate: Candidate, expected: bool) -> None:
    assert matches(NEEDS, candidate) is expected


def test_rank_keeps_only_matches() -> None:
    pool = [volunteer(1), volunteer(2, skills={"art"}), volunteer(3, vetted=False)]
    assert [c.volunteer_id for c in rank(NEEDS, pool, 10)] == [1]


def test_rank_spreads_load_then_prefers_the_longest_idle() -> None:
    pool = [
        volunteer(1, open_claims=3, last_active_on="2026-01-01"),
        volunteer(2, open_claims=0, last_active_on="2026-06-05"),
        volunteer(3, open_claims=0, last_active_on="2026-02-01"),
        volunteer(4, open_claims=1, last_active_on="2025-01-01"),
    ]
    assert [c.volunteer_id for c in rank(NEEDS, pool, 10)] == [3, 2, 4, 1]


def test_rank_stops_at_the_limit() -> None:
    pool = [volunteer(i) for i in range(1, 30)]
    ranked = rank(NEEDS, pool, 10)
    assert len(ranked) == 10
    assert [c.volunteer_id for c in ranked] == list(range(1, 11))


@pytest.mark.parametrize("limit", [0, -1])
def test_rank_with_no_room(limit: int) -> None:
    assert rank(NEEDS, [volunteer(1)], limit) == []


def test_rank_excludes_current_readers() -> None:
    pool = [volunteer(1), volunteer(2), volunteer(3)]
    assert [c.volunteer_id for c in rank(NEEDS, pool, 10, exclude=[2])] == [1, 3]


def test_ties_rank_the_same_whatever_the_input_order() -> None:
    pool = [volunteer(i) for i in (5, 3, 9, 1)]
    assert [c.volunteer_id for c in rank(NEEDS, pool, 10)] == [1, 3, 5, 9]
    assert rank(NEEDS, list(reversed(pool)), 10) == rank(NEEDS, pool, 10)
