"""Operators are made on the server's command line, never by a web form.

An operator is a vetted volunteer with the operator flag and no skills: the
same keys, the same sign-in, the same TOTP enrolment.
"""

from __future__ import annotations

from onion_app.domain import handles
from onion_app.domain.volunteer_keys import Stretching, keys_for, passphrase_problem
from onion_app.errors import BadHandle, HandleTaken, WeakPassphrase
from onion_app.store import staff
from onion_app.store.connection import Connection


def check_new_operator(conn: Connection, handle: str) -> str:
    """Refuses a handle before anyone is asked for a passphrase.

    The command line is the operator's own, so unlike the web form it may say
    that a handle is taken.

    :returns: the handle as it will be stored (NFKC)
    :raises BadHandle: if it is not letters, digits, ``.``, ``-``, ``_`` of one script
    :raises HandleTaken: if a volunteer or operator has it, or one that looks like it
    """
    handle = handles.normalise(handle)
    if len(handle) > handles.HANDLE_MAX or not handles.well_formed(handle):
        raise BadHandle(f"a handle is up to {handles.HANDLE_MAX} letters, digits, dots, "
                        "dashes or underscores")
    if not handles.single_script(handle):
        raise BadHandle("a handle uses the letters of one script only")
    if handles.look_alike_taken(conn, handle):
        raise HandleTaken(f"the handle {handle} is taken, or one that looks like it")
    return handle


def create_operator(conn: Connection, handle: str, passphrase: str,
                    stretching: Stretching) -> None:
    """Creates a vetted operator account, audits it and commits.

    :raises HandleTaken: if a volunteer or operator has the handle
    :raises WeakPassphrase: if the passphrase is refused (the message says why)
    :raises Busy: if the process is at its bound on key derivations
    """
    handle = check_new_operator(conn, handle)
    problem = passphrase_problem(passphrase, handle)
    if problem:
        raise WeakPassphrase(problem)
    keys = keys_for(passphrase, None, stretching)
    volunteer_id = staff.create_volunteer(conn, staff.Application(
        handle=handle, public_key=keys.public_key, wrapped_key=keys.wrapped_key,
        mlkem_public_key=keys.mlkem_public_key,
        passphrase_hash=keys.passphrase_hash, skills=frozenset(), languages=frozenset(),
        availability="weekly", bio="Created from the command line.", references="",
        handle_skeleton=handles.skeleton(handle)),
        status="vetted", is_operator=True)
    staff.audit(conn, "cli", "created operator", volunteer=volunteer_id)
    conn.commit()
