from __future__ import annotations

import nacl.utils
from nacl.public import PrivateKey

from crypto.envelope import ContentKey
from crypto.requester import RequesterKeys
from onion_app.web.sessions import ENROLLING, SessionRegistry, SessionStore


class Clock:
    """A hand-moved clock: timeouts are tested by moving it, not by waiting."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_create_get_end() -> None:
    store = SessionStore(60, 600)
    key = PrivateKey.generate()
    sid = store.create("requester", 7, key)
    assert len(sid) >= 32
    found = store.get(sid)
    assert found is not None
    assert (found.kind, found.account_id, found.private_key) == ("requester", 7, key)
    store.end(sid)
    assert store.get(sid) is None


def test_a_requester_session_holds_what_derives_each_requests_key() -> None:
    store = SessionStore(60, 600)
    keys = RequesterKeys(lookup_id=bytes(32), private_key=PrivateKey.generate(),
                         master_secret=nacl.utils.random(32))
    found = store.get(store.create("requester", 7, None, requester_keys=keys))
    assert found is not None
    assert found.requester_keys is keys
    assert found.private_key is None
    text = repr(found)
    assert keys.master_secret.hex() not in text
    assert repr(keys.master_secret) not in text
    assert "requester_keys" not in text


def test_unknown_and_empty_ids() -> None:
    store = SessionStore(60, 600)
    assert store.get(None) is None
    assert store.get("") is None
    assert store.get("nope") is None
    store.end("nope")


def test_idle_timeout_and_touch() -> None:
    clock = Clock()
    store = SessionStore(idle_seconds=30 * 60, lifetime_seconds=2 * 3600, clock=clock)
    sid = store.create("requester", 1, None)
    clock.now += 29 * 60
    assert store.get(sid) is not None  # touched: the idle clock restarts
    clock.now += 29 * 60
    assert store.get(sid) is not None
    clock.now += 31 * 60
    assert store.get(sid) is None


def test_absolute_lifetime_wins_over_activity() -> None:
    clock = Clock()
    store = SessionStore(idle_seconds=30 * 60, lifetime_seconds=2 * 3600, clock=clock)
    sid = store.create("requester", 1, None)
    for _ in range(4):
        clock.now += 29 * 60
        assert store.get(sid) is not None
    clock.now += 5 * 60  # 2 h 1 min after login, though active a minute ago
    assert store.get(sid) is None


def test_end_account_ends_all_its_sessions() -> None:
    store = SessionStore(60, 600)
    mine = [store.create("requester", 1, None) for _ in range(3)]
    other = store.create("requester", 2, None)
    volunteer = store.create("volunteer", 1, None)
    store.end_account("requester", 1)
    assert all(store.get(sid) is None for sid in mine)
    assert store.get(other) is not None
    assert store.get(volunteer) is not None


def test_expired_sessions_are_pruned_on_create() -> None:
    clock = Clock()
    store = SessionStore(idle_seconds=10, lifetime_seconds=100, clock=clock)
    for _ in range(5):
        store.create("requester", 1, None)
    clock.now += 11
    store.create("requester", 2, None)
    assert len(store) == 1


def test_private_key_is_not_in_repr() -> None:
    store = SessionStore(60, 600)
    key = PrivateKey.generate()
    found = store.get(store.create("requester", 1, key))
    assert bytes(key).hex() not in repr(found)


def test_kept_content_keys_start_empty_and_stay_out_of_repr() -> None:
    store = SessionStore(60, 600)
    found = store.get(store.create("requester", 1, None))
    assert found is not None
    assert found.content_keys == {}
    found.content_keys["public-id"] = ContentKey(bytes(range(32)))
    assert "content_keys" not in repr(found)
    assert bytes(range(32)).hex() not in repr(found)
    assert "public-id" not in repr(found)
    other = store.get(store.create("requester", 2, None))
    assert other is not None
    assert other.content_keys == {}  # one dict per session


def test_end_account_keeps_one_and_ends_enrolment_too() -> None:
    store = SessionStore(60, 600)
    here = store.create("volunteer", 1, None)
    elsewhere = store.create("volunteer", 1, None)
    enrolling = store.create(ENROLLING, 1, None)
    other = store.create("volunteer", 2, None)
    store.end_account("volunteer", 1, keep=here)
    assert store.get(here) is not None
    assert store.get(elsewhere) is None
    assert store.get(enrolling) is None
    assert store.get(other) is not None


def test_the_registry_reaches_every_store() -> None:
    registry = SessionRegistry()
    public, staff = SessionStore(60, 600), SessionStore(60, 600)
    registry.register(public)
    registry.register(staff)
    gone = [public.create("requester", 3, None), staff.create("requester", 3, None)]
    kept = public.create("requester", 4, None)
    registry.end_accounts("requester", {3})
    assert [public.get(gone[0]), staff.get(gone[1])] == [None, None]
    assert public.get(kept) is not None
