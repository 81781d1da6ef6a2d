"""Matching in SQL picks exactly whom the reference ranking in Python picks."""

from __future__ import annotations

import random

import pytest

from onion_app.domain.matching import Needs, rank
from onion_app.store import matching, volunteers
from onion_app.store import requests as rows
from onion_app.store.connection import Connection
from tests.statements import compilations

SKILLS = ["legal", "press", "care", "security", "art", "research"]
LANGUAGES = ["fa", "ar", "ru", "en", "tr", "zh"]
DAYS = ["2026-01-05", "2026-02-10", "2026-03-01", "2026-03-02"]


def _populate(conn: Connection, rng: random.Random, n: int) -> list[int]:
    """``n`` volunteers of every kind, and requests claimed, released,
    resolved and deleted among them, so the claim counts have moved."""
    ids = []
    for number in range(n):
        cursor = conn.execute(
            "INSERT INTO volunteers (public_id, handle, public_key, status, available,"
            " created_on, last_active_on, triage) VALUES (?, ?, ?, ?, ?, '2026-01-01', ?, ?)",
            (f"p{number}", f"h{number}", rng.randbytes(32),
             rng.choice(["vetted"] * 6 + ["applied", "suspended"]), int(rng.random() < 0.9),
             rng.choice(DAYS), int(rng.random() < 0.1)))
        volunteer_id = int(cursor.lastrowid)
        ids.append(volunteer_id)
        conn.executemany("INSERT INTO volunteer_skills VALUES (?, ?)",
                         [(volunteer_id, s) for s in rng.sample(SKILLS, rng.randint(1, 3))])
        conn.executemany("INSERT INTO volunteer_languages VALUES (?, ?)",
                         [(volunteer_id, s) for s in rng.sample(LANGUAGES, rng.randint(1, 2))])
    requester_id = rows.create_requester(conn, rng.randbytes(32), rng.randbytes(32))
    requests = []
    for _ in range(n):
        request_id = rows.create_request(
            conn, requester_id=requester_id, public_id=rows.new_public_id(), urgency="normal",
            region="unsaid", skills=["legal"], languages=["fa"], body=b"b", readers=[])
        requests.append(request_id)
        conn.execute("UPDATE requests SET claimed_by = ? WHERE id = ?",
                     (rng.choice(ids), request_id))
    for request_id in rng.sample(requests, n // 2):
        change = rng.choice(["release", "resolve", "delete", "reclaim", "reopen"])
        if change == "release":
            conn.execute("UPDATE requests SET claimed_by = NULL WHERE id = ?", (request_id,))
        elif change == "resolve":
            conn.execute("UPDATE requests SET status = 'resolved' WHERE id = ?", (request_id,))
        elif change == "delete":
            conn.execute("DELETE FROM requests WHERE id = ?", (request_id,))
        elif change == "reclaim":
            conn.execute("UPDATE requests SET claimed_by = ? WHERE id = ?",
                         (rng.choice(ids), request_id))
        else:
            conn.execute("UPDATE requests SET status = 'open' WHERE id = ?", (request_id,))
    return ids


def _needs(rng: random.Random) -> Needs:
    return Needs(frozenset(rng.sample(SKILLS, rng.randint(1, 2))),
                 frozenset(rng.sample(LANGUAGES, rng.randint(1, 2))))


# SQL starts from the holders of the skills when they are few, and walks the
# rank index otherwise: both plans, forced here, must agree with Python.
@pytest.mark.parametrize("few_holders", [0, 1_000_000])
@pytest.mark.parametrize(("n", "seed"), [(40, 1), (250, 2)])
def test_sql_ranking_picks_the_same_volunteers(db: Connection, n: int, seed: int,
                                               few_holders: int,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(matching, "_FEW_HOLDERS", few_holders)
    rng = random.Random(seed)  # noqa: S311  (test data)
    _populate(db, rng, n)
    for _ in range(100):
        needs = _needs(rng)
        limit = rng.choice([1, 3, 10])
        old = rank(needs, volunteers.candidates(db, needs.skills), limit)
        new = matching.ranked(db, needs.skills, needs.languages, limit)
        assert [c.volunteer_id for c in new] == [c.volunteer_id for c in old]
        assert new == old


def test_claim_counts_follow_every_change(db: Connection) -> None:
    ids = _populate(db, random.Random(4), 80)  # noqa: S311  (test data)
    db.execute("DELETE FROM volunteers WHERE id = ?", (ids[0],))  # its claims reopen
    stored = dict(db.execute("SELECT id, open_claims FROM volunteers").fetchall())
    counted = dict(db.execute(
        "SELECT v.id, (SELECT count(*) FROM requests r WHERE r.claimed_by = v.id"
        " AND r.status = 'open') FROM volunteers v").fetchall())
    assert stored == counted
    assert any(stored.values())


def test_current_readers_are_left_out(db: Connection) -> None:
    _populate(db, random.Random(5), 60)  # noqa: S311  (test data)
    needs = Needs(frozenset(SKILLS), frozenset(LANGUAGES))
    first = matching.ranked(db, needs.skills, needs.languages, 3)
    request_id = int(db.execute("SELECT min(id) FROM requests").fetchone()[0])
    rows.add_request_readers(db, request_id, [rows.Reader(f"{c.volunteer_id:032}", c.volunteer_id,
                                                          b"\x01s") for c in first[:2]])
    again = matching.ranked(db, needs.skills, needs.languages, 3, request_id=request_id)
    assert [c.volunteer_id for c in again][:1] == [first[2].volunteer_id]
    assert not {c.volunteer_id for c in again} & {c.volunteer_id for c in first[:2]}


def test_triage_prefers_a_shared_language(db: Connection) -> None:
    for number, (language, claims) in enumerate([("en", 0), ("fa", 2), ("fa", 1), ("ru", 0)]):
        cursor = db.execute(
            "INSERT INTO volunteers (public_id, handle, public_key, status, created_on,"
            " last_active_on, triage, open_claims) VALUES (?, ?, ?, 'vetted', '2026-01-01',"
            " '2026-01-01', 1, ?)", (f"t{number}", f"t{number}", bytes([number]) * 32, claims))
        db.execute("INSERT INTO volunteer_languages VALUES (?, ?)", (cursor.lastrowid, language))
    chosen = matching.triage_ranked(db, {"fa", "ar"}, 3)
    assert [c.volunteer_id for c in chosen] == [3, 2, 1]  # fa by load, then the idlest other
    assert matching.triage_ranked(db, {"fa"}, 0) == []


def test_the_pool_moves_when_someone_may_have_become_matchable(db: Connection) -> None:
    ids = _populate(db, random.Random(6), 5)  # noqa: S311  (test data)
    before = matching.pool_version(db)
    db.execute("UPDATE volunteers SET last_active_on = '2026-04-01' WHERE id = ?", (ids[0],))
    assert matching.pool_version(db) == before  # signing in changes nothing
    db.execute("UPDATE volunteers SET status = 'vetted' WHERE id = ?", (ids[1],))
    assert matching.pool_version(db) == before + 1


def test_requests_to_widen_are_the_stale_or_due_open_unclaimed_ones(db: Connection) -> None:
    requester_id = rows.create_requester(db, b"L" * 32, b"K" * 32)
    made = {}
    for name in ("fresh", "stale", "due", "claimed", "closed"):
        made[name] = rows.create_request(
            db, requester_id=requester_id, public_id=rows.new_public_id(), urgency="normal",
            region="unsaid", skills=["legal"], languages=["fa"], body=b"b", readers=[],
            matched_pool=0 if name == "stale" else 5)
    db.execute("UPDATE requests SET widened_on = '2026-01-01' WHERE id IN (?, ?, ?)",
               (made["due"], made["claimed"], made["closed"]))
    db.execute("UPDATE requests SET matched_pool = 0 WHERE id IN (?, ?)",
               (made["claimed"], made["closed"]))
    volunteer = db.execute("INSERT INTO volunteers (public_id, handle, public_key, created_on,"
                           " last_active_on) VALUES ('p', 'h', x'00', '', '')").lastrowid
    db.execute("UPDATE requests SET claimed_by = ? WHERE id = ?", (volunteer, made["claimed"]))
    db.execute("UPDATE requests SET status = 'closed' WHERE id = ?", (made["closed"],))
    found = matching.requests_to_widen(db, pool=5, due_on_or_before="2026-01-10", limit=10,
                                       requester_id=requester_id)
    assert {(ref.id, due) for ref, due in found} == {(made["stale"], False),
                                                      (made["due"], True)}
    assert len(matching.requests_to_widen(db, pool=5, due_on_or_before="2026-01-10", limit=1,
                                          requester_id=requester_id)) == 1
    assert matching.requests_to_widen(db, pool=5, due_on_or_before="2026-01-10", limit=10,
                                      volunteer_id=int(volunteer)) == []


@pytest.mark.parametrize("few_holders", [0, 1_000_000])  # both plans
def test_matching_queries_are_compiled_once(db: Connection, few_holders: int,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(matching, "_FEW_HOLDERS", few_holders)
    rng = random.Random(5)  # noqa: S311  (test data)
    _populate(db, rng, 60)
    needs = _needs(rng)
    assert matching.ranked(db, needs.skills, needs.languages, 10)
    assert compilations(db, lambda: (
        matching.ranked(db, needs.skills, needs.languages, 10),
        matching.triage_ranked(db, needs.languages, 3))) == 0
    # The check itself sees a compilation when there is one.
    assert compilations(db, lambda: db.execute(
        "SELECT id FROM volunteers LIMIT ?", (5,)).fetchall()) > 0
