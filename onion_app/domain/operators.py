"""Operators are made on the server's command line, never by a web form.

An operator is a vetted volunteer with the operator flag and no skills: the
same keys, the same sign-in, the same TOTP enrolment.
"""

from __future__ import annotations

from onion_app.domain.volunteer_keys import Stretching, keys_for, passphrase_problem
from onion_app.errors import HandleTaken, WeakPassphrase
from onion_app.store import staff
from onion_app.store.connection import Connection


def check_new_operator(conn: Connection, handle: str) -> None:
    """Refuses a handle before anyone is asked for a passphrase.

    :raises HandleTaken: if a volunteer or operator has it
    """
    if staff.handle_taken(conn, handle):
        raise HandleTaken(f"the handle {handle} is taken")


def create_operator(conn: Connection, handle: str, passphrase: str,
                    stretching: Stretching) -> None:
    """Creates a vetted operator account, audits it and commits.

    :raises HandleTaken: if a volunteer or operator has the handle
    :raises WeakPassphrase: if the passphrase is refused (the message says why)
    :raises Busy: if the process is at its bound on key derivations
    """
    check_new_operator(conn, handle)
    problem = passphrase_problem(passphrase, handle)
    if problem:
        raise WeakPassphrase(problem)
    keys = keys_for(passphrase, None, stretching)
    volunteer_id = staff.create_volunteer(conn, staff.Application(
        handle=handle, public_key=keys.public_key, wrapped_key=keys.wrapped_key,
        passphrase_hash=keys.passphrase_hash, skills=frozenset(), languages=frozenset(),
        availability="weekly", bio="Created from the command line.", references=""),
        status="vetted", is_operator=True)
    staff.audit(conn, "cli", "created operator", volunteer=volunteer_id)
    conn.commit()
