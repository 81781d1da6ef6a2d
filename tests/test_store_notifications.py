"""SQL for digests: what counts as news, by day; claims; what goes with a volunteer."""

from __future__ import annotations

import datetime
import os

from onion_app.store import Connection, staff
from onion_app.store import notifications as store
from onion_app.store import requests as store_requests
from onion_app.store.requests import Reader
from tests.journey import add_volunteer

TODAY = datetime.date.today().isoformat()
YESTERDAY = (datetime.date.today() - datetime.timedelta(days=1)).isoformat()
TOMORROW = (datetime.date.today() + datetime.timedelta(days=1)).isoformat()
STANZA = b"\x01" + bytes(80)


def a_request(conn: Connection, readers: dict[str, int | None]) -> int:
    requester_id = store_requests.create_requester(conn, os.urandom(32), os.urandom(32))
    return store_requests.create_request(
        conn, requester_id=requester_id, public_id=store_requests.new_public_id(),
        urgency="normal", region="mena", skills=["legal"], languages=["fa"], body=b"sealed",
        readers=[Reader(fp, vid, STANZA) for fp, vid in readers.items()])


def subscribed(conn: Connection, handle: str) -> int:
    volunteer_id, _ = add_volunteer(conn, handle, ["legal"], ["fa"])
    store.subscribe(conn, volunteer_id, address=f"{handle}@example.org", choice="news",
                    pgp_key=None, pgp_fingerprint=None, counted_through=YESTERDAY)
    return volunteer_id


def test_readers_carry_the_day_they_were_added_whatever_the_path(db: Connection) -> None:
    lawyer = subscribed(db, "lawyer")
    request_id = a_request(db, {"requester": None, "lawyer": lawyer})
    days = dict(db.execute("SELECT fingerprint, added_on FROM request_readers").fetchall())
    assert days == {"requester": None, "lawyer": TODAY}  # the requester is never news
    db.execute("UPDATE request_readers SET added_on = '2026-01-01'")
    # A newer stanza for the same reader is not a new reader.
    store_requests.add_request_readers(db, request_id, [Reader("lawyer", lawyer,
                                                               b"\x02" + bytes(80))])
    assert db.execute("SELECT added_on FROM request_readers WHERE fingerprint = 'lawyer'"
                      ).fetchone()[0] == "2026-01-01"


def test_news_counts_whole_days_between_two_dates(db: Connection) -> None:
    lawyer = subscribed(db, "lawyer")
    other, _ = add_volunteer(db, "other", ["legal"], ["fa"])
    request_id = a_request(db, {"requester": None, "lawyer": lawyer, "other": other})
    closed = a_request(db, {"requester": None, "lawyer": lawyer})
    store_requests.set_status(db, closed, "closed")
    for author, fingerprints in ((None, ("requester", "lawyer", "other")),
                                 (other, ("requester", "lawyer", "other")),
                                 (lawyer, ("requester", "lawyer", "other"))):
        store_requests.create_message(
            db, request_id=request_id, public_id=store_requests.new_public_id(),
            from_requester=author is None, author_volunteer_id=author, body=b"sealed",
            stanzas=dict.fromkeys(fingerprints, STANZA))
    staff.audit(db, "cli", "approved", volunteer=lawyer)
    staff.audit(db, "cli", "made operator", volunteer=lawyer)  # not a decision
    # One open request; the requester's and the other volunteer's messages,
    # not the lawyer's own; one decision.
    assert store.news(db, lawyer, YESTERDAY, TOMORROW) == store.News(1, 2, 1)
    assert store.news(db, lawyer, TODAY, TOMORROW) == store.News()  # after today
    assert store.news(db, lawyer, YESTERDAY, TODAY) == store.News()  # before today
    assert not store.News().any


def test_one_claim_a_day(db: Connection) -> None:
    lawyer = subscribed(db, "lawyer")
    assert [s.volunteer_id for s in store.waiting(db, TODAY)] == [lawyer]
    assert store.claim(db, lawyer, TODAY)
    assert not store.claim(db, lawyer, TODAY)
    assert store.waiting(db, TODAY) == []
    assert [s.volunteer_id for s in store.waiting(db, TOMORROW)] == [lawyer]


def test_suspended_volunteers_get_no_mail(db: Connection) -> None:
    lawyer = subscribed(db, "lawyer")
    staff.update(db, lawyer, status="suspended")
    assert store.waiting(db, TODAY) == []


def test_the_address_goes_with_the_volunteer(db: Connection) -> None:
    lawyer = subscribed(db, "lawyer")
    kept = subscribed(db, "kept")
    staff.delete_volunteer(db, lawyer)
    assert [row[0] for row in db.execute("SELECT address FROM volunteer_notifications")] == \
        ["kept@example.org"]
    store.unsubscribe(db, kept)
    assert store.subscription(db, kept) is None


def test_saving_again_keeps_what_was_counted(db: Connection) -> None:
    lawyer = subscribed(db, "lawyer")
    store.mark_sent(db, lawyer, TODAY, YESTERDAY)
    store.subscribe(db, lawyer, address="new@example.org", choice="daily", pgp_key=None,
                    pgp_fingerprint=None, counted_through="2020-01-01")
    saved = store.subscription(db, lawyer)
    assert saved is not None
    assert (saved.address, saved.choice, saved.sent_on, saved.counted_through) == \
        ("new@example.org", "daily", TODAY, YESTERDAY)
