"""Triage at submission and widening at a reader's sign-in, through the real store."""

from __future__ import annotations

import datetime
from collections.abc import Iterator

import nacl.utils
import pytest
from nacl.public import PrivateKey

from crypto.requester import RequesterKeys
from onion_app.config import Config
from onion_app.domain import sealing, widening
from onion_app.domain.matching import Policy
from onion_app.store import Database, staff
from onion_app.store import requests as rows
from onion_app.store.connection import Connection
from tests.journey import add_volunteer

TODAY = datetime.date.today()
TEXT = sealing.RequestText("Need a lawyer", "A story.", "Advice.")


@pytest.fixture
def conn(initialised: Config) -> Iterator[Connection]:
    connection = Database(initialised).open()
    yield connection
    connection.close()


def _request(conn: Connection, policy: Policy, skills: set[str] = frozenset({"legal"}),
             languages: set[str] = frozenset({"fa"})) -> tuple[int, RequesterKeys, str]:
    keys = RequesterKeys(lookup_id=nacl.utils.random(32), private_key=PrivateKey.generate(),
                         master_secret=nacl.utils.random(32))
    requester_id = rows.create_requester(conn, keys.lookup_id, bytes(keys.public_key))
    public_id = sealing.submit_request(conn, requester_id, keys, sealing.NewRequest(
        TEXT, frozenset(skills), frozenset(languages), "unsaid", "normal"), policy)
    return requester_id, keys, public_id


def _triage(conn: Connection, handle: str, languages: list[str]) -> tuple[int, PrivateKey]:
    volunteer_id, key = add_volunteer(conn, handle, ["care"], languages)
    staff.update(conn, volunteer_id, triage=1)
    return volunteer_id, key


def _readers(conn: Connection, public_id: str) -> dict[int, bool]:
    """Volunteer readers of a request, each with whether they read it for triage."""
    return {int(r[0]): bool(r[1]) for r in conn.execute(
        "SELECT rr.volunteer_id, rr.for_triage FROM request_readers rr"
        " JOIN requests q ON q.id = rr.request_id"
        " WHERE q.public_id = ? AND rr.volunteer_id IS NOT NULL", (public_id,))}


def test_a_request_nobody_matches_goes_to_triage_sharing_a_language_first(
        conn: Connection) -> None:
    english, _ = _triage(conn, "t-en", ["en"])
    persian, persian_key = _triage(conn, "t-fa", ["fa"])
    russian, _ = _triage(conn, "t-ru", ["ru"])
    _, _, public_id = _request(conn, Policy(10, triage_limit=2), skills={"press"})
    readers = _readers(conn, public_id)
    assert readers[persian] is True
    assert len(readers) == 2
    assert set(readers) <= {english, persian, russian}
    request_id = int(conn.execute("SELECT id FROM requests WHERE public_id = ?",
                                  (public_id,)).fetchone()[0])
    assert sealing.open_request(conn, request_id, public_id, persian_key) == TEXT


def test_enough_matches_and_triage_is_not_asked(conn: Connection) -> None:
    _triage(conn, "t-fa", ["fa"])
    lawyer, _ = add_volunteer(conn, "lawyer", ["legal"], ["fa"])
    _, _, public_id = _request(conn, Policy(10, match_min=1))
    assert _readers(conn, public_id) == {lawyer: False}
    # With a minimum of two, one match is too few: triage reads it as well.
    _, _, second = _request(conn, Policy(10, match_min=2))
    assert sorted(_readers(conn, second).values()) == [False, True]


def test_a_triage_volunteers_sign_in_shares_with_a_new_match(conn: Connection) -> None:
    triage_id, triage_key = _triage(conn, "t-fa", ["fa"])
    policy = Policy(10)
    _, _, public_id = _request(conn, policy)
    late, _ = add_volunteer(conn, "late-lawyer", ["legal"], ["fa"])
    assert widening.at_sign_in(conn, lambda _ref: triage_key, policy, TODAY,
                               volunteer_id=triage_id) == 1
    assert _readers(conn, public_id) == {triage_id: True, late: False}
    # Nothing changed since: the next sign-in looks at nothing.
    assert widening.at_sign_in(conn, lambda _ref: triage_key, policy, TODAY,
                               volunteer_id=triage_id) == 0
    assert ("system", "request shared with newly matching volunteers") in {
        (line.actor, line.action) for line in staff.audit_lines(conn, 10, 0)}


def test_triage_readers_do_not_fill_the_match_limit(conn: Connection) -> None:
    triage_id, triage_key = _triage(conn, "t-fa", ["fa"])
    policy = Policy(1)
    _, _, public_id = _request(conn, policy)
    late, _ = add_volunteer(conn, "late-lawyer", ["legal"], ["fa"])
    widening.at_sign_in(conn, lambda _ref: triage_key, policy, TODAY, volunteer_id=triage_id)
    assert late in _readers(conn, public_id)


def test_after_the_period_a_request_is_widened_past_the_limit_once(conn: Connection) -> None:
    policy = Policy(1, widen_after_days=3)
    first, _ = add_volunteer(conn, "first", ["legal"], ["fa"], last_active_on="2026-01-01")
    requester_id, keys, public_id = _request(conn, policy)
    second, _ = add_volunteer(conn, "second", ["legal"], ["fa"], last_active_on="2026-01-02")
    third, _ = add_volunteer(conn, "third", ["legal"], ["fa"], last_active_on="2026-01-03")
    assert widening.at_requester_sign_in(conn, requester_id, keys, policy, TODAY) == 0
    assert set(_readers(conn, public_id)) == {first}
    later = TODAY + datetime.timedelta(days=3)
    assert widening.at_requester_sign_in(conn, requester_id, keys, policy, later) == 1
    assert set(_readers(conn, public_id)) == {first, second}  # the next best, one batch
    assert widening.at_requester_sign_in(conn, requester_id, keys, policy, later) == 0
    again = later + datetime.timedelta(days=3)
    assert widening.at_requester_sign_in(conn, requester_id, keys, policy, again) == 1
    assert set(_readers(conn, public_id)) == {first, second, third}


def test_a_claimed_request_is_not_widened(conn: Connection) -> None:
    policy = Policy(10)
    requester_id, keys, public_id = _request(conn, policy)
    helper, _ = add_volunteer(conn, "helper", ["care"], ["fa"])
    conn.execute("UPDATE requests SET claimed_by = ? WHERE public_id = ?", (helper, public_id))
    add_volunteer(conn, "late", ["legal"], ["fa"])
    assert widening.at_requester_sign_in(conn, requester_id, keys, policy, TODAY) == 0


def test_one_sign_in_re_seals_a_bounded_number_of_requests(
        conn: Connection, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(widening, "SHARES_PER_SIGN_IN", 2)
    triage_id, triage_key = _triage(conn, "t-fa", ["fa"])
    policy = Policy(10)
    for _ in range(3):
        _request(conn, policy)
    add_volunteer(conn, "late", ["legal"], ["fa"])
    signs_in = [widening.at_sign_in(conn, lambda _ref: triage_key, policy, TODAY,
                                    volunteer_id=triage_id) for _ in range(3)]
    assert signs_in == [2, 1, 0]
