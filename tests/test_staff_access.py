"""Every staff route, called as every kind of visitor, answers as it should.

Deny by default: a route missing from this table fails the coverage check at
the end, so a new route cannot slip in untested.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import pytest
from flask import Flask
from flask.testing import FlaskClient

from onion_app.config import Config
from tests import journey as requester
from tests.haven_cli import cli_runner
from tests.journey import csrf
from tests.staff_journey import PASSPHRASE, apply, approve, button, enrol, install_clock

ROLES = ("anonymous", "applicant", "volunteer", "suspended", "unmatched", "operator")
OUT = {"anonymous": None, "applicant": None, "suspended": None}  # no session: sent to login

# (method, path, expected status per role). "REQ" is a request sealed to
# "volunteer" only; "VOL" is the public id of the volunteer "volunteer".
TABLE: list[tuple[str, str, dict[str, int]]] = [
    ("GET", "/", dict.fromkeys(ROLES, 200)),
    ("GET", "/apply", dict.fromkeys(ROLES, 200)),
    ("GET", "/login", dict.fromkeys(ROLES, 200)),
    # Nobody in this world has an offline application waiting for its key check.
    ("GET", "/apply/key", dict.fromkeys(ROLES, 302)),
    ("POST", "/apply/key", dict.fromkeys(ROLES, 302)),
    ("GET", "/apply/key/challenge.json", dict.fromkeys(ROLES, 404)),
    # Only the applicant's session still remembers an application; signing in
    # starts a fresh session.
    ("GET", "/apply/sent", {**dict.fromkeys(ROLES, 302), "applicant": 200}),
    ("GET", "/enrol", dict.fromkeys(ROLES, 302)),
    ("GET", "/enrol/qr.png", dict.fromkeys(ROLES, 404)),
    ("GET", "/dashboard", {"volunteer": 200, "unmatched": 200, "operator": 200}),
    ("GET", "/account", {"volunteer": 200, "unmatched": 200, "operator": 200}),
    ("GET", "/account/delete", {"volunteer": 200, "unmatched": 200, "operator": 200}),
    ("GET", "/cases/REQ", {"volunteer": 200, "unmatched": 404, "operator": 404}),
    ("GET", "/cases/REQ/bundle.json", {"volunteer": 200, "unmatched": 404, "operator": 404}),
    ("GET", "/cases/REQ/files/FILE", {"volunteer": 200, "unmatched": 404, "operator": 404}),
    ("POST", "/cases/REQ/claim", {"volunteer": 302, "unmatched": 404, "operator": 404}),
    ("POST", "/cases/REQ/release", {"volunteer": 302, "unmatched": 404, "operator": 404}),
    ("POST", "/cases/REQ/reply", {"volunteer": 400, "unmatched": 404, "operator": 404}),
    ("POST", "/cases/REQ/refer", {"volunteer": 302, "unmatched": 404, "operator": 404}),
    # No reason chosen: the question again, refused.
    ("POST", "/cases/REQ/flag", {"volunteer": 400, "unmatched": 404, "operator": 404}),
    ("GET", "/cases/REQ/flag", {"volunteer": 200, "unmatched": 404, "operator": 404}),
    # Nobody is helping with REQ: resolving is refused, back to the case.
    ("GET", "/cases/REQ/resolve", {"volunteer": 302, "unmatched": 404, "operator": 404}),
    ("GET", "/cases/REQ/offline", {"volunteer": 200, "unmatched": 404, "operator": 404}),
    ("GET", "/cases/REQ/readers.txt", {"volunteer": 200, "unmatched": 404, "operator": 404}),
    ("POST", "/cases/REQ/upload", {"volunteer": 400, "unmatched": 404, "operator": 404}),
    ("POST", "/cases/REQ/resolve", {"volunteer": 302, "unmatched": 404, "operator": 404}),
    ("POST", "/account/availability", {"volunteer": 302, "unmatched": 302, "operator": 302}),
    ("POST", "/account/triage", {"volunteer": 302, "unmatched": 302, "operator": 302}),
    ("POST", "/account/passphrase", {"volunteer": 400, "unmatched": 400, "operator": 400}),
    ("POST", "/account/totp", {"volunteer": 400, "unmatched": 400, "operator": 400}),
    ("POST", "/account/public-key", {"volunteer": 400, "unmatched": 400, "operator": 400}),
    ("POST", "/account/notifications", {"volunteer": 400, "unmatched": 400, "operator": 400}),
    ("POST", "/account/notifications/stop",
     {"volunteer": 302, "unmatched": 302, "operator": 302}),
    ("GET", "/operator/", {"volunteer": 404, "unmatched": 404, "operator": 200}),
    ("GET", "/operator/applications", {"volunteer": 404, "unmatched": 404, "operator": 200}),
    ("GET", "/operator/supply", {"volunteer": 404, "unmatched": 404, "operator": 200}),
    ("GET", "/operator/applications/VOL", {"volunteer": 404, "unmatched": 404,
                                           "operator": 404}),  # already vetted: not pending
    ("GET", "/operator/volunteers", {"volunteer": 404, "unmatched": 404, "operator": 200}),
    ("POST", "/operator/volunteers/VOL/grant", {"volunteer": 404, "unmatched": 404,
                                                "operator": 302}),
    ("GET", "/operator/requests", {"volunteer": 404, "unmatched": 404, "operator": 200}),
    ("POST", "/operator/requests/REQ/delete", {"volunteer": 404, "unmatched": 404,
                                               "operator": 302}),
    ("GET", "/operator/audit", {"volunteer": 404, "unmatched": 404, "operator": 200}),
    ("GET", "/operator/tor", {"volunteer": 404, "unmatched": 404, "operator": 200}),
    ("POST", "/logout", dict.fromkeys(ROLES, 302)),
    ("GET", "/language/es", dict.fromkeys(ROLES, 302)),
    ("GET", "/favicon.ico", dict.fromkeys(ROLES, 200)),
]
# The steps of an application send back to its start, never to a login.
APPLYING = {"/apply/key", "/apply/sent"}
# Routes that change an account for good are exercised in their own tests.
NOT_IN_TABLE = {("POST", "/account/delete"), ("POST", "/apply"), ("POST", "/login"),
                ("POST", "/enrol"), ("POST", "/operator/applications/<public_id>"),
                ("GET", "/static/<path:filename>")}


@dataclass
class World:
    clients: dict[str, FlaskClient]
    ids: dict[str, str]


def _signed_in(app: Flask, clock: object, handle: str, operator: FlaskClient | None,
               skills: tuple[str, ...] = ("legal",)) -> FlaskClient:
    client = app.test_client()
    apply(client, handle, skills=skills, languages=("fa",))
    if operator is not None:
        approve(operator, handle)
    enrol(client, clock, handle)  # type: ignore[arg-type]
    return client


@pytest.fixture
def world(staff_app: Flask, public_app: Flask, initialised: Config) -> World:
    clock = install_clock(staff_app)
    cli_runner(staff_app).invoke(args=["operator", "create", "op"],
                                       input=f"{PASSPHRASE}\n{PASSPHRASE}\n")
    operator = staff_app.test_client()
    enrol(operator, clock, "op")
    volunteer = _signed_in(staff_app, clock, "volunteer", operator)
    suspended = _signed_in(staff_app, clock, "suspended", operator, skills=("art",))
    unmatched = _signed_in(staff_app, clock, "unmatched", operator, skills=("art",))
    applicant = staff_app.test_client()
    apply(applicant, "applicant")
    asker = public_app.test_client()
    requester.new_account(asker)
    request_id = requester.submitted_id(asker, skills=["legal"], languages=["fa"])
    asker.post(f"/requests/{request_id}/reply", content_type="multipart/form-data", data={
        "csrf_token": requester.csrf(asker, f"/requests/{request_id}"), "text": "a file",
        "files": [(io.BytesIO(b"a note\n"), "note.txt")]})
    case = volunteer.get(f"/cases/{request_id}").get_data(as_text=True)
    page = operator.get("/operator/volunteers").get_data(as_text=True)
    ids = {"REQ": request_id, "FILE": case.split(f"/cases/{request_id}/files/")[1][:22]}
    for handle in ("volunteer", "suspended"):
        start = page.index(f"<bdi>{handle}</bdi>")
        ids[handle] = page[start:].split('/operator/volunteers/')[1][:22]
    button(operator, f"/operator/volunteers/{ids['suspended']}/suspend", "/operator/volunteers")
    ids["VOL"] = ids["volunteer"]
    return World({"anonymous": staff_app.test_client(), "applicant": applicant,
                  "volunteer": volunteer, "suspended": suspended, "unmatched": unmatched,
                  "operator": operator}, ids)


def _url(path: str, ids: dict[str, str]) -> str:
    for name in ("REQ", "VOL", "FILE"):
        path = path.replace(name, ids[name])
    return path


def test_every_route_for_every_role(world: World) -> None:
    # Destructive rows last, so earlier rows see the world as it was built.
    last = {"/operator/requests/REQ/delete": 1, "/operator/volunteers/VOL/grant": 2,
            "/logout": 3}
    ordered = sorted(TABLE, key=lambda row: last.get(row[1], 0))
    for method, path, expected in ordered:
        for role in ROLES:
            client = world.clients[role]
            url = _url(path, world.ids)
            if method == "POST":
                response = client.post(url, data={"csrf_token": csrf(client, "/apply")})
            else:
                response = client.get(url)
            want = expected.get(role)
            if want is None:  # no live session: a page sends to login, a post keeps text
                want = 302 if method == "GET" else 401
                if path == "/logout":
                    want = 302
            assert response.status_code == want, (method, path, role,
                                                  response.status_code)
            if want == 302 and path in APPLYING:
                assert response.location == "/apply"
            elif want == 302 and path not in ("/enrol", "/logout", "/language/es") and role in OUT:
                assert response.location == "/login"


def test_the_table_covers_every_staff_route(staff_app: Flask) -> None:
    covered = {(method, path) for method, path, _ in TABLE}
    for rule in staff_app.url_map.iter_rules():
        generic = (rule.rule.replace("<public_id>", "").replace("<action>", "grant")
                   .replace("<code>", "es").replace("<file_id>", ""))
        for method in (rule.methods or set()) - {"HEAD", "OPTIONS"}:
            if (method, rule.rule) in NOT_IN_TABLE:
                continue
            assert any(m == method and _shape(p) == _shape(generic) for m, p in covered), (
                method, rule.rule)


def _shape(path: str) -> str:
    return path.replace("REQ", "").replace("VOL", "").replace("FILE", "")


def test_an_operator_cannot_reach_a_decrypted_request(world: World) -> None:
    operator = world.clients["operator"]
    request_id = world.ids["REQ"]
    for path in (f"/cases/{request_id}", f"/cases/{request_id}/bundle.json",
                 f"/requests/{request_id}"):
        assert operator.get(path).status_code == 404, path
    listing = operator.get("/operator/requests").get_data(as_text=True)
    assert "Need a lawyer" not in listing  # the title typed by the requester
    assert "My story." not in listing
