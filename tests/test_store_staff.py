from __future__ import annotations

from collections.abc import Iterator

import pytest
from nacl.public import PrivateKey

from onion_app.config import Config
from onion_app.domain import handles
from onion_app.store import Database, staff
from onion_app.store.connection import Connection
from tests.statements import compilations


@pytest.fixture
def conn(initialised: Config) -> Iterator[Connection]:
    connection = Database(initialised).open()
    yield connection
    connection.close()


def _application(handle: str, skills: tuple[str, ...] = ("legal",),
                 public_key: bytes | None = None) -> staff.Application:
    key = public_key if public_key is not None else bytes(PrivateKey.generate().public_key)
    return staff.Application(handle=handle, public_key=key, wrapped_key=None,
                             passphrase_hash=b"h", skills=frozenset(skills),
                             languages=frozenset({"fa"}), availability="weekly", bio="b",
                             references="r", mlkem_public_key=None,
                             handle_skeleton=handles.skeleton(handle))


def test_create_and_find(conn: Connection) -> None:
    volunteer_id = staff.create_volunteer(conn, _application("Lawyer", ("legal", "press")))
    row = staff.by_handle(conn, "Lawyer")
    assert row.id == volunteer_id
    assert row.status == "applied"
    assert row.skills == {"legal", "press"}
    assert staff.by_public_id(conn, row.public_id).id == volunteer_id
    assert handles.look_alike_taken(conn, "lawyer")  # case does not make a new handle


def test_update_allows_only_known_columns(conn: Connection) -> None:
    volunteer_id = staff.create_volunteer(conn, _application("a"))
    staff.update(conn, volunteer_id, status="vetted", available=0)
    row = staff.by_id(conn, volunteer_id)
    assert (row.status, row.available) == ("vetted", 0)
    with pytest.raises(ValueError, match="not a settable"):
        staff.update(conn, volunteer_id, handle="evil")


def test_listing_by_status(conn: Connection) -> None:
    one = staff.create_volunteer(conn, _application("one"))
    staff.create_volunteer(conn, _application("two"))
    staff.update(conn, one, status="vetted")
    assert [r.handle for r in staff.listing(conn, "applied")] == ["two"]
    assert [r.handle for r in staff.listing(conn)] == ["one", "two"]


def test_operator_lists_are_compiled_once(conn: Connection) -> None:
    staff.create_volunteer(conn, _application("one"))
    # Each page binds its own bounds; a bare LIMIT ? would compile again at each.
    assert compilations(conn, lambda: (
        staff.listing(conn, offset=6, limit=6), staff.listing(conn, "applied", limit=8),
        staff.audit_lines(conn, 10, 20))) == 0


def test_audit_lines_are_days(conn: Connection) -> None:
    op = staff.create_volunteer(conn, _application("op"))
    x = staff.create_volunteer(conn, _application("x"))
    staff.audit(conn, op, "approved", volunteer=x)
    [line] = staff.audit_lines(conn, 10, 0)
    assert len(line.day) == 10
    assert (line.actor, line.action, line.object) == ("op", "approved", "volunteer x")


def test_the_audit_log_names_volunteers_by_id_never_by_text(conn: Connection) -> None:
    with pytest.raises(ValueError, match="by id"):
        staff.audit(conn, "op", "approved")


def test_a_deleted_volunteer_and_request_leave_the_log_naming_nobody(
        conn: Connection) -> None:
    from onion_app.store import requests as rows

    op = staff.create_volunteer(conn, _application("op"))
    gone = staff.create_volunteer(conn, _application("gone-handle"))
    requester_id = rows.create_requester(conn, b"L" * 32, b"P" * 32)
    request_id = rows.create_request(
        conn, requester_id=requester_id, public_id="R" * 22, urgency="normal", region="mena",
        skills=["legal"], languages=["fa"], body=b"x", readers=[])
    staff.audit(conn, gone, "claimed", request=request_id)
    staff.audit(conn, op, "suspended", volunteer=gone)
    staff.delete_volunteer(conn, gone)
    rows.delete_request(conn, request_id)
    lines = [(line.actor, line.action, line.object) for line in staff.audit_lines(conn, 10, 0)]
    assert lines == [("op", "suspended", "a deleted volunteer"),
                     ("a deleted volunteer", "claimed", "a deleted request")]
    raw = " ".join(str(tuple(r)) for r in conn.execute("SELECT * FROM audit_log"))
    assert "gone-handle" not in raw
    assert "R" * 22 not in raw


def test_referral_candidates_share_a_skill_and_are_not_readers(conn: Connection) -> None:
    from onion_app.store import requests as rows

    requester_id = rows.create_requester(conn, b"L" * 32, b"P" * 32)
    request_id = rows.create_request(
        conn, requester_id=requester_id, public_id=rows.new_public_id(), urgency="normal",
        region="unsaid", skills=["legal"], languages=["fa"], body=b"b",
        readers=[rows.Reader("f" * 32, None, b"\x01s")])
    reader = staff.create_volunteer(conn, _application("reader"))
    other = staff.create_volunteer(conn, _application("other"))
    painter = staff.create_volunteer(conn, _application("painter", ("art",)))
    for volunteer_id in (reader, other, painter):
        staff.update(conn, volunteer_id, status="vetted")
    rows.add_request_readers(conn, request_id, [rows.Reader("a" * 32, reader, b"\x01s")])
    assert [r.handle for r in staff.referral_candidates(conn, request_id)] == ["other"]
