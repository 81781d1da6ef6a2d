"""Applications to volunteer: stored for the operators, never confirming a handle.

An anonymous visitor must not learn from ``/apply`` whether a handle exists
(that would undo the equal-time login). So an application whose handle, or a
look-alike of it, is taken is answered exactly like any other, and only the
operators hear of it, in the audit log.
"""

from __future__ import annotations

from nacl.public import PublicKey

from crypto.keys import fingerprint
from onion_app.domain import handles
from onion_app.errors import HandleTaken, KeyTaken
from onion_app.store import staff
from onion_app.store.connection import Connection


def submit(conn: Connection, application: staff.Application) -> bool:
    """Stores an application, or audits it when its handle is taken. The caller commits.

    :returns: whether it was stored
    :raises KeyTaken: if a volunteer or a requester holds its public key (the
        applicant has proved they hold the private key, so only they learn this)
    """
    key = application.public_key
    if staff.key_in_use(conn, key, fingerprint(PublicKey(key))):
        raise KeyTaken("that public key belongs to another account")
    try:
        if handles.look_alike_taken(conn, application.handle):
            raise HandleTaken(application.handle)
        volunteer_id = staff.create_volunteer(conn, application)
    except HandleTaken:
        # The dropped handle is (or looks like) an existing volunteer's, and the
        # log must not keep a volunteer's handle past their account: it says
        # only that an application was dropped.
        staff.audit(conn, "system", "application dropped: the handle or a look-alike is taken")
        return False
    staff.audit(conn, volunteer_id, "applied", volunteer=volunteer_id)
    return True
