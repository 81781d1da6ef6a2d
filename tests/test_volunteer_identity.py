"""One person, one account (issue 11): key squatting, look-alike handles,
and handle enumeration through /apply."""

from __future__ import annotations

import datetime
import re
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from nacl.public import PrivateKey

from crypto.hybrid import x25519_public
from crypto.kdf import KdfParams
from crypto.requester import derive_requester_keys
from onion_app.config import Config
from onion_app.domain import handles, key_proof, sealing, widening
from onion_app.domain.matching import Policy
from onion_app.errors import HandleTaken, KeyTaken
from onion_app.store import Database, staff
from onion_app.store import requests as rows
from tests.haven_cli import cli_runner
from tests.journey import csrf
from tests.staff_journey import (
    PASSPHRASE,
    answer_key_check,
    apply,
    challenge_of,
    login,
)
from tests.test_volunteer_offline import crypto_cli, open_challenge
from tests.test_volunteer_views import Staff, asked, site, vetted

__all__ = ["site"]  # the fixture, imported for the tests below

CYRILLIC_I = "\u0456"


def _keygen(path: Path) -> str:
    made = crypto_cli("keygen", "-o", str(path), "--kdf-opslimit", "1", "--kdf-memlimit-mib", "8")
    assert made.returncode == 0, made.stderr
    return made.stdout.strip()


def _applications(site: Staff) -> str:
    return site.operator.get("/operator/applications").get_data(as_text=True)


def _audit(site: Staff) -> str:
    return site.operator.get("/operator/audit").get_data(as_text=True)


# Item 7: key squatting ------------------------------------------------------

def test_an_offline_key_is_taken_only_with_proof_of_possession(site: Staff,
                                                               tmp_path: Path) -> None:
    victim_key = _keygen(tmp_path / "victim.key")
    squatter = site.app.test_client()
    page = apply(squatter, "squatter", offline_key=victim_key)
    assert page.status_code == 200
    assert "python -m crypto open haven-challenge.json" in page.get_data(as_text=True)
    assert "squatter" not in _applications(site)  # nothing stored before the proof
    for _ in range(key_proof.MAX_ATTEMPTS - 1):
        wrong = answer_key_check(squatter, "AAAA-BBBB-CCCC-DDDD")
        assert wrong.status_code == 400
        assert "AAAA-BBBB-CCCC-DDDD" in wrong.get_data(as_text=True)  # kept as typed
    given_up = answer_key_check(squatter, "AAAA-BBBB-CCCC-DDDD")
    assert "Too many wrong answers" in given_up.get_data(as_text=True)
    assert "squatter" not in _applications(site)


def test_the_challenge_downloads_and_opens_with_the_key_file(site: Staff,
                                                             tmp_path: Path) -> None:
    key_file = tmp_path / "mine.key"
    client = site.app.test_client()
    page = apply(client, "offline-two", offline_key=_keygen(key_file))
    download = client.get("/apply/key/challenge.json")
    assert download.status_code == 200
    assert "attachment" in download.headers["Content-Disposition"]
    assert download.get_data(as_text=True) == challenge_of(page.get_data(as_text=True))
    done = answer_key_check(client, open_challenge(download.get_data(as_text=True), key_file))
    assert "offline mode" in done.get_data(as_text=True)
    assert "offline-two" in _applications(site)
    assert site.app.test_client().get("/apply/key/challenge.json").status_code == 404


def test_a_key_already_in_use_is_refused_after_the_proof(site: Staff, tmp_path: Path) -> None:
    key_file = tmp_path / "mine.key"
    public_key = _keygen(key_file)
    first = site.app.test_client()
    page = apply(first, "offline-first", offline_key=public_key)
    answer_key_check(first, open_challenge(challenge_of(page.get_data(as_text=True)), key_file))
    again = site.app.test_client()
    page = apply(again, "offline-again", offline_key=public_key)
    refused = answer_key_check(again, open_challenge(challenge_of(page.get_data(as_text=True)),
                                                     key_file))
    assert refused.status_code == 409
    text = refused.get_data(as_text=True)
    assert "belongs to another Haven account" in text
    assert "I am offline-again, a lawyer in Berlin." in text  # the application is kept
    assert "offline-again" not in _applications(site)


def test_a_requesters_key_from_a_case_page_cannot_be_registered(site: Staff) -> None:
    reader, _ = vetted(site, "reader")
    _, public_id = asked(site)
    copied = reader.get(f"/cases/{public_id}/readers.txt").get_data(as_text=True).split()
    assert len(copied) == 2  # the requester's key and the reader's own
    squatter = site.app.test_client()
    for key in copied:
        page = apply(squatter, "squatter", offline_key=key)
        assert "haven-challenge.json" in page.get_data(as_text=True)
        assert answer_key_check(squatter, "not the code").status_code == 400
    assert "squatter" not in _applications(site)


def test_public_keys_are_unique_across_volunteers_and_requesters(initialised: Config) -> None:
    conn = Database(initialised).open()
    try:
        key = bytes(PrivateKey.generate().public_key)
        staff.create_volunteer(conn, _application("first", key))
        with pytest.raises(KeyTaken):
            staff.create_volunteer(conn, _application("second", key))
        requester_key = PrivateKey.generate().public_key
        rows.create_requester(conn, b"L" * 32, bytes(requester_key))
        with pytest.raises(KeyTaken):
            staff.create_volunteer(conn, _application("third", bytes(requester_key)))
        with pytest.raises(HandleTaken):
            staff.create_volunteer(conn, _application("FIRST", None))
    finally:
        conn.close()


def test_a_reader_row_never_points_at_the_wrong_account(initialised: Config) -> None:
    # A volunteer holding a requester's request key (made before keys were
    # checked, or by any other road) and matching the request: when the
    # requester signs in and the request is shared with them, the requester's
    # stanza must stay the requester's, so deleting the volunteer leaves the
    # request readable.
    conn = Database(initialised).open()
    try:
        keys = derive_requester_keys(CODENAME, b"S" * 16, params=CHEAP)
        requester_id = rows.create_requester(conn, keys.lookup_id, bytes(keys.public_key))
        public_id = sealing.submit_request(conn, requester_id, keys, _new_request(),
                                           Policy(10))
        mine = keys.request_key(public_id)
        volunteer_id = staff.create_volunteer(conn, _application("holder", bytes(
            x25519_public(mine.public_key))), status="vetted")
        assert widening.at_requester_sign_in(conn, requester_id, keys, Policy(10),
                                             datetime.date.today()) == 1
        found = rows.request_of(conn, requester_id, public_id)
        assert found is not None
        staff.delete_volunteer(conn, volunteer_id)
        conn.commit()
        assert sealing.open_request(conn, found.id, public_id, mine).title == "Help"
    finally:
        conn.close()


CODENAME = "abacus abdomen abdominal abide abiding ability ablaze"
CHEAP = KdfParams(opslimit=1, memlimit=8 * 1024)


def _new_request() -> sealing.NewRequest:
    return sealing.NewRequest(sealing.RequestText("Help", "A story.", "Anything."),
                              frozenset({"legal"}), frozenset({"fa"}), "unsaid", "normal")


def _application(handle: str, public_key: bytes | None) -> staff.Application:
    key = public_key if public_key is not None else bytes(PrivateKey.generate().public_key)
    return staff.Application(handle=handle, public_key=key, wrapped_key=None,
                             passphrase_hash=b"h", skills=frozenset({"legal"}),
                             languages=frozenset({"fa"}), availability="weekly", bio="b",
                             references="r", mlkem_public_key=None,
                             handle_skeleton=handles.skeleton(handle))


# Item 10: look-alike handles ------------------------------------------------

@pytest.mark.parametrize("handle", ["opboss\n", "opboss\r\n", "op boss", "opboss\u200b"])
def test_a_handle_is_matched_whole(site: Staff, handle: str) -> None:
    response = apply(site.app.test_client(), handle)
    assert response.status_code == 400
    assert "Use letters, digits, dots, dashes or underscores." in response.get_data(as_text=True)


def test_a_handle_mixing_scripts_is_refused(site: Staff) -> None:
    response = apply(site.app.test_client(), f"v{CYRILLIC_I}cky")
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "letters of one alphabet" in page
    assert "I am v" in page  # the rest of the application is kept


@pytest.mark.parametrize("look_alike", ["VICKY", "\uff56\uff49\uff43\uff4b\uff59",
                                        "v\u0131cky"])
def test_a_look_alike_of_an_existing_handle_is_not_stored(site: Staff, look_alike: str) -> None:
    apply(site.app.test_client(), "vicky")
    answer = apply(site.app.test_client(), look_alike)
    assert answer.status_code == 200  # the same thank-you page: see item 13
    assert len(re.findall(r"<bdi>[^<]*</bdi>", _applications(site))) == 1
    assert "application dropped" in _audit(site)


def test_an_all_cyrillic_look_alike_is_not_stored(site: Staff) -> None:
    apply(site.app.test_client(), "ace")
    apply(site.app.test_client(), "\u0430\u0441\u0435")  # Cyrillic a, es, ie: one script
    assert len(re.findall(r"<bdi>[^<]*</bdi>", _applications(site))) == 1


def test_handles_are_stored_in_nfkc(site: Staff) -> None:
    apply(site.app.test_client(), "\uff4b\uff49\uff4d-2")  # full-width "kim"
    assert "<bdi>kim-2</bdi>" in _applications(site)


def test_the_operator_command_refuses_look_alikes(site: Staff) -> None:
    runner = cli_runner(site.app)
    for handle, reason in [("\u043e\u0440", "taken"), ("o\u0440", "one script"),
                           ("boss\n", "letters, digits"), ("OP", "taken")]:
        result = runner.invoke(args=["operator", "create", handle],
                               input=f"{PASSPHRASE}\n{PASSPHRASE}\n")
        assert result.exit_code == 1, (handle, result.output)
        assert reason in result.output


def test_skeletons_follow_tr39() -> None:
    assert handles.skeleton(f"v{CYRILLIC_I}cky") == handles.skeleton("Vicky")
    assert handles.skeleton("rn-ary") == handles.skeleton("m-ary")
    assert handles.skeleton("vicky") != handles.skeleton("nicky")
    assert handles.single_script("\u5c71\u7530\u305f\u308d\u3046")  # Japanese: Han + Hiragana
    assert handles.single_script("ali_2.0")
    assert not handles.single_script(f"v{CYRILLIC_I}cky")
    assert not handles.well_formed("opboss\n")


# Item 13: no handle enumeration --------------------------------------------

def test_apply_does_not_tell_whether_a_handle_exists(site: Staff) -> None:
    apply(site.app.test_client(), "x-one")
    taken, free = site.app.test_client(), site.app.test_client()
    answers = [apply(client, handle, follow_redirects=False)
               for client, handle in ((taken, "X-ONE"), (free, "x-two"))]
    assert [(a.status_code, a.location) for a in answers] == [(303, "/apply/sent")] * 2
    pages = [client.get("/apply/sent").get_data(as_text=True).replace(handle, "HANDLE")
             for client, handle in ((taken, "X-ONE"), (free, "x-two"))]
    assert _without_tokens(pages[0]) == _without_tokens(pages[1])
    assert "That handle is taken" not in pages[0]
    # Signing in with what was applied with tells nothing either.
    logins = [login(client, handle) for client, handle in ((taken, "X-ONE"), (free, "x-two"))]
    assert [r.status_code for r in logins] == [400, 400]
    assert _without_tokens(logins[0].get_data(as_text=True).replace("X-ONE", "HANDLE")) == \
        _without_tokens(logins[1].get_data(as_text=True).replace("x-two", "HANDLE"))
    # The operators are told.
    # The operators hear of it, without the log keeping a volunteer's handle.
    assert "application dropped" in _audit(site)


def _without_tokens(page: str) -> str:
    return re.sub(r'name="csrf_token" value="[^"]*"', "", page)


def test_an_offline_application_with_a_taken_handle_passes_the_same_way(
        site: Staff, tmp_path: Path) -> None:
    key_file = tmp_path / "mine.key"
    apply(site.app.test_client(), "x-one")
    client = site.app.test_client()
    page = apply(client, "X-ONE", offline_key=_keygen(key_file))
    done = answer_key_check(client, open_challenge(challenge_of(page.get_data(as_text=True)),
                                                   key_file))
    assert done.status_code == 200
    assert "offline mode" in done.get_data(as_text=True)
    assert "X-ONE" not in _applications(site)
    # The operators hear of it, without the log keeping a volunteer's handle.
    assert "application dropped" in _audit(site)


def test_the_key_check_page_expires_into_a_fresh_application(site: Staff) -> None:
    client: FlaskClient = site.app.test_client()
    gone = client.get("/apply/key", follow_redirects=True)
    assert "waited too long" in gone.get_data(as_text=True)
    assert client.post("/apply/key", data={"csrf_token": csrf(client, "/apply"),
                                           "answer": "x"}).status_code == 302
