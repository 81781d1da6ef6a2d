"""Widening at any reader's sign-in: shares open, unclaimed requests with
volunteers who have come to match them since (issue 13).

Only a current reader can add a reader, so every sign-in of one (the
requester, a matched volunteer, a triage volunteer) is the moment to do it:
up to the match limit as volunteers join, and past it, to the next best
matches, once a request has waited ``widen_after_days`` unclaimed (once per
period). Every widening goes in the audit log, by metadata only.

The work per sign-in is bounded whatever the reader can open: the store picks
at most :data:`CHECKS_PER_SIGN_IN` requests, only those matched against an
older pool of volunteers or due for widening (so a sign-in after nothing
changed costs two small index scans), and at most :data:`SHARES_PER_SIGN_IN`
of them are re-sealed; the rest wait for the next sign-in of any reader.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable

from crypto.errors import DecryptionError
from crypto.hybrid import ReaderPrivateKey
from crypto.requester import RequesterKeys
from onion_app.domain import matching, requester_keys, sealing
from onion_app.store import matching as store
from onion_app.store import requests as rows
from onion_app.store import staff
from onion_app.store.connection import Connection
from onion_app.store.rows import RequestRef

# A sign-in looks at this many requests at most (one ranking query each)...
CHECKS_PER_SIGN_IN = 50
# ...and re-seals at most this many (each re-seals the request's thread).
SHARES_PER_SIGN_IN = 10


def at_sign_in(conn: Connection, key_for: Callable[[RequestRef], ReaderPrivateKey],
               policy: matching.Policy, today: datetime.date, *,
               requester_id: int | None = None, volunteer_id: int | None = None) -> int:
    """Widens the requests one reader can open, within this sign-in's bound.

    :param key_for: the reader's private key for a request
    :returns: how many new readers were added
    """
    pool = store.pool_version(conn)
    due = (today - datetime.timedelta(days=policy.widen_after_days)).isoformat()
    added = widened = 0
    for ref, is_due in store.requests_to_widen(conn, pool=pool, due_on_or_before=due,
                                               limit=CHECKS_PER_SIGN_IN,
                                               requester_id=requester_id,
                                               volunteer_id=volunteer_id):
        if widened >= SHARES_PER_SIGN_IN:
            break
        try:
            count = widen(conn, ref, key_for(ref), policy, pool, today if is_due else None)
        except DecryptionError:
            continue  # this reader's stanza does not open: another reader will do it
        added += count
        widened += bool(count)
    return added


def at_requester_sign_in(conn: Connection, requester_id: int, keys: RequesterKeys,
                         policy: matching.Policy, today: datetime.date) -> int:
    """:func:`at_sign_in` for a requester, who opens each request with its own key.

    :returns: how many new readers were added
    """
    return at_sign_in(
        conn, lambda ref: requester_keys.request_key(keys, ref.public_id,
                                                     ref.requester_key_version),
        policy, today, requester_id=requester_id)


def widen(conn: Connection, ref: RequestRef, reader_key: ReaderPrivateKey,
          policy: matching.Policy, pool: int, due: datetime.date | None) -> int:
    """Shares one request with the volunteers who now match it: up to the
    match limit, or, when ``due``, the next ``match_limit`` past it; with
    triage volunteers if it still has too few matched readers.

    :returns: how many readers were added
    :raises DecryptionError: if ``reader_key`` does not read the request
    """
    skills, languages = rows.request_needs(conn, ref.id)
    matched = store.matched_readers(conn, ref.id)
    room = max(policy.match_limit - matched, 0) + (policy.match_limit if due else 0)
    chosen = matching.choose(conn, matching.Needs(frozenset(skills), frozenset(languages)),
                             policy, room, request_id=ref.id, matched_already=matched,
                             triage_already=store.triage_readers(conn, ref.id))
    for candidate, for_triage in [*((c, False) for c in chosen.matched),
                                  *((c, True) for c in chosen.triage)]:
        sealing.share_with(conn, ref.id, ref.public_id, reader_key,
                           sealing.stored_reader_key(candidate.public_key,
                                                     candidate.mlkem_public_key),
                           candidate.volunteer_id, for_triage=for_triage)
    added = len(chosen.matched) + len(chosen.triage)
    if added:
        action = ("request widened after waiting unclaimed" if due
                  else "request shared with newly matching volunteers")
        staff.audit(conn, "system", action, f"{added} added", request=ref.id)
    store.mark_matched(conn, ref.id, pool, None if due is None else due.isoformat())
    return added
