"""Issue 17's upgrade, through the web: a database filled with X25519-only
(format-1) content by the release before hybrid stanzas, then upgraded by
sign-ins, reads back everything, and what is sealed afterwards is hybrid for
every reader who has an ML-KEM key."""

from __future__ import annotations

from collections import Counter

import pytest
from flask.testing import FlaskClient
from nacl.public import PrivateKey

from crypto.bundle import load_bundle
from crypto.envelope import open_envelope
from crypto.keys import fingerprint
from crypto.keytext import encode_public_key
from onion_app.config import Config
from onion_app.domain import sealing, volunteer_keys
from onion_app.store import Database
from tests import journey as requester
from tests.staff_journey import answer_key_check, apply, approve, challenge_of, enrol, sign_in
from tests.test_volunteer_views import Staff, site, vetted  # noqa: F401 (site is a fixture)


def _previous_release(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make the app seal and make keys as it did before hybrid stanzas: X25519
    keys for new volunteers and requests, and no upgrade at sign-in."""
    monkeypatch.setattr(sealing, "REQUEST_KEY_VERSION", 1)
    monkeypatch.setattr(volunteer_keys, "new_key_pair", PrivateKey.generate)
    monkeypatch.setattr(sealing, "upgrade_requester", lambda *args: 0)
    monkeypatch.setattr(volunteer_keys, "gain_mlkem_key", lambda conn, row, key, *rest: key)
    monkeypatch.setattr(sealing, "upgrade_own_stanzas", lambda *args: 0)


def _stanza_formats(config: Config) -> dict[str, Counter[int]]:
    conn = Database(config).open()
    try:
        formats = {table: Counter(
            # The first byte of every stanza, and the column that must agree with it.
            int(row[0]) for row in conn.execute(
                f"SELECT stanza_format FROM {table} WHERE substr(stanza, 1, 1) = "  # noqa: S608
                f"  CASE stanza_format WHEN 1 THEN x'01' ELSE x'02' END"))
            for table in ("request_readers", "message_readers")}
        totals = {table: int(conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0])  # noqa: S608
                  for table in formats}
    finally:
        conn.close()
    for table, counted in formats.items():
        assert sum(counted.values()) == totals[table]
    return formats


def _message_stanzas(config: Config, marker_id: int) -> dict[bool, int]:
    """A message's stanzas by whether their reader has an ML-KEM key now:
    {has_key: count of format-2 stanzas} and the rest."""
    conn = Database(config).open()
    try:
        rows = conn.execute(
            """SELECT mr.stanza_format,
                      CASE WHEN rr.volunteer_id IS NULL THEN r.requester_mlkem_key
                           ELSE v.mlkem_public_key END IS NOT NULL
                 FROM message_readers mr JOIN messages m ON m.id = mr.message_id
                 JOIN requests r ON r.id = m.request_id
                 LEFT JOIN request_readers rr
                        ON rr.request_id = r.id AND rr.fingerprint = mr.fingerprint
                 LEFT JOIN volunteers v ON v.id = rr.volunteer_id
                WHERE m.id = ?""", (marker_id,)).fetchall()
    finally:
        conn.close()
    return Counter((int(f), bool(capable)) for f, capable in rows)  # type: ignore[return-value]


def _last_message_id(config: Config) -> int:
    conn = Database(config).open()
    try:
        return int(conn.execute("SELECT max(id) FROM messages").fetchone()[0])
    finally:
        conn.close()


def _reads(client: FlaskClient, url: str, *markers: str) -> None:
    page = client.get(url)
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    for marker in markers:
        assert marker in text, f"{marker} is not on {url}"


def test_v1_content_survives_sign_ins_and_new_content_is_hybrid(
    site: Staff, initialised: Config, monkeypatch: pytest.MonkeyPatch,  # noqa: F811
) -> None:
    # The release before: everything it seals is format 1.
    _previous_release(monkeypatch)
    lawyer, lawyer_id = vetted(site, "lawyer")
    later, later_id = vetted(site, "late-lawyer")
    offline_key = PrivateKey.generate()
    offline = site.app.test_client()
    page = apply(offline, "offline-lawyer", offline_key=encode_public_key(offline_key.public_key))
    assert page.status_code == 200
    [challenge] = load_bundle(challenge_of(page.get_data(as_text=True))).items
    code = open_envelope(challenge.envelope.body,
                         challenge.envelope.stanzas[fingerprint(offline_key.public_key)],
                         offline_key, challenge.associated_data)
    assert answer_key_check(offline, code.decode()).status_code == 200
    approve(site.operator, "offline-lawyer")
    enrol(offline, site.clock, "offline-lawyer")
    asker = site.public.test_client()
    codename = requester.new_account(asker)
    old_id = requester.submitted_id(asker, title="OLD-TITLE", story="OLD-STORY")
    requester.reply(asker, old_id, "OLD-REQUESTER-MESSAGE")
    assert lawyer.post(f"/cases/{old_id}/reply", data={
        "csrf_token": requester.csrf(lawyer, f"/cases/{old_id}"),
        "text": "OLD-VOLUNTEER-MESSAGE"}).status_code == 302
    before = _stanza_formats(initialised)
    # Requester, three volunteers; two messages to all four.
    assert before == {"request_readers": Counter({1: 4}), "message_readers": Counter({1: 8})}

    # This release: sign-ins upgrade.
    monkeypatch.undo()
    requester.logout(asker)
    assert requester.login(asker, codename).status_code == 302
    lawyer.post("/logout", data={"csrf_token": requester.csrf(lawyer, "/dashboard")})
    assert sign_in(lawyer, site.clock, lawyer_id).status_code == 302
    after_sign_ins = _stanza_formats(initialised)
    # Requester and lawyer now hybrid; the late lawyer (not signed in since) and
    # the offline lawyer (an X25519-only key) still format 1.
    assert after_sign_ins == {"request_readers": Counter({2: 2, 1: 2}),
                              "message_readers": Counter({2: 4, 1: 4})}

    # Every request and message still reads, for every reader.
    _reads(asker, f"/requests/{old_id}", "OLD-TITLE", "OLD-STORY", "OLD-REQUESTER-MESSAGE",
           "OLD-VOLUNTEER-MESSAGE")
    _reads(lawyer, f"/cases/{old_id}", "OLD-STORY", "OLD-REQUESTER-MESSAGE",
           "OLD-VOLUNTEER-MESSAGE")
    later.post("/logout", data={"csrf_token": requester.csrf(later, "/dashboard")})
    assert sign_in(later, site.clock, later_id).status_code == 302
    _reads(later, f"/cases/{old_id}", "OLD-STORY", "OLD-REQUESTER-MESSAGE",
           "OLD-VOLUNTEER-MESSAGE")

    # New content: hybrid for the three readers with an ML-KEM key, format 1
    # only for the offline volunteer, who has none.
    requester.reply(asker, old_id, "NEW-REQUESTER-MESSAGE")
    assert _message_stanzas(initialised, _last_message_id(initialised)) == Counter(
        {(2, True): 3, (1, False): 1})
    new_id = requester.submitted_id(asker, title="NEW-TITLE", story="NEW-STORY")
    _reads(lawyer, f"/cases/{new_id}", "NEW-STORY")
    _reads(later, f"/cases/{old_id}", "NEW-REQUESTER-MESSAGE")
    final = _stanza_formats(initialised)
    assert final["request_readers"] == Counter({2: 6, 1: 2})
    assert final["message_readers"] == Counter({2: 9, 1: 3})

    # The operator sees how many readers are still X25519 only.
    overview = site.operator.get("/operator/").get_data(as_text=True)
    assert "Vetted volunteers without an ML-KEM key (X25519 only)" in overview
