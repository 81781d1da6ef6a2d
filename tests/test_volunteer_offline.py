"""An offline-only volunteer: key made with the CLI, bundles in and out."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from nacl.public import PrivateKey

from crypto.bundle import Bundle, BundleItem, dump_bundle, load_bundle
from crypto.kdf import TEST_KDF_PARAMS
from crypto.keytext import encode_public_key, encode_wrapped_key
from crypto.stanza import stanza_version
from crypto.volunteer import wrap_private_key
from tests import journey as requester
from tests.haven_cli import cli_runner
from tests.journey import csrf
from tests.staff_journey import (
    PASSPHRASE,
    answer_key_check,
    apply,
    approve,
    challenge_of,
    enrol,
    install_clock,
)

KEY_PASSPHRASE = "the key file's own passphrase"
ROOT = Path(__file__).resolve().parent.parent


def crypto_cli(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, HAVEN_CRYPTO_PASSPHRASE=KEY_PASSPHRASE, PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, "-m", "crypto", *args], input=stdin, env=env,
                          capture_output=True, text=True, timeout=60, check=False)


@pytest.fixture
def offline(staff_app: Flask, tmp_path: Path) -> tuple[FlaskClient, Path]:
    clock = install_clock(staff_app)
    cli_runner(staff_app).invoke(args=["operator", "create", "op"],
                                       input=f"{PASSPHRASE}\n{PASSPHRASE}\n")
    operator = staff_app.test_client()
    enrol(operator, clock, "op")
    key_file = tmp_path / "haven.key"
    made = crypto_cli("keygen", "-o", str(key_file), "--kdf-opslimit", "1",
                      "--kdf-memlimit-mib", "8")
    assert made.returncode == 0, made.stderr
    public_key = made.stdout.strip()
    volunteer = staff_app.test_client()
    response = apply(volunteer, "offline-lawyer", skills=("legal",), languages=("fa",),
                     offline_key=public_key)
    assert response.status_code == 200
    response = answer_key_check(volunteer, open_challenge(
        challenge_of(response.get_data(as_text=True)), key_file))
    assert response.status_code == 200
    assert "offline mode" in response.get_data(as_text=True)
    approve(operator, "offline-lawyer")
    enrol(volunteer, clock, "offline-lawyer")
    return volunteer, key_file


def open_challenge(challenge: str, key_file: Path) -> str:
    """What ``python -m crypto open`` prints for the challenge: the applicant's answer."""
    challenge_file = key_file.parent / "haven-challenge.json"
    challenge_file.unlink(missing_ok=True)
    challenge_file.write_text(challenge)
    opened = crypto_cli("open", str(challenge_file), "-k", str(key_file))
    assert opened.returncode == 0, opened.stderr
    return opened.stdout


def _seal_arguments(client: FlaskClient, public_id: str, folder: Path) -> list[str]:
    """The arguments of the seal command the offline page shows for a reply,
    with the readers file it links downloaded into ``folder``."""
    page = client.get(f"/cases/{public_id}/offline").get_data(as_text=True)
    found = re.search(r'<pre class="command">python -m crypto seal (.+?) -o reply.json</pre>',
                      page)
    assert found, "the offline page shows no seal command"
    arguments = found.group(1).split()
    assert "haven-pk" not in page  # keys are in the file: the page stays light
    assert f'href="/cases/{public_id}/readers.txt"' in page
    readers = client.get(f"/cases/{public_id}/readers.txt")
    name = f"haven-{public_id}-readers.txt"
    assert readers.headers["Content-Disposition"] == f'attachment; filename="{name}"'
    at = arguments.index("--to-file") + 1
    assert arguments[at] == name
    (folder / name).write_bytes(readers.data)
    arguments[at] = str(folder / name)
    return arguments


def _upload(client: FlaskClient, public_id: str, data: bytes) -> object:
    return client.post(f"/cases/{public_id}/upload", data={
        "csrf_token": csrf(client, f"/cases/{public_id}"),
        "bundle": (io.BytesIO(data), "reply.json")}, content_type="multipart/form-data")


def test_offline_volunteer_reads_and_answers_with_bundles(
        offline: tuple[FlaskClient, Path], public_app: Flask, tmp_path: Path) -> None:
    volunteer, key_file = offline
    asker = public_app.test_client()
    requester.new_account(asker)
    public_id = requester.submitted_id(asker, title="OFFLINE-TITLE", story="OFFLINE-STORY")
    requester.reply(asker, public_id, "A FOLLOW-UP FROM THE REQUESTER")
    dashboard = volunteer.get("/dashboard").get_data(as_text=True)
    assert "Sealed request (open it offline)" in dashboard
    assert "OFFLINE-TITLE" not in dashboard
    case = volunteer.get(f"/cases/{public_id}").get_data(as_text=True)
    assert "OFFLINE-STORY" not in case

    bundle = volunteer.get(f"/cases/{public_id}/bundle.json")
    assert bundle.headers["Content-Disposition"].startswith("attachment;")
    bundle_file = tmp_path / "bundle.json"
    bundle_file.write_bytes(bundle.data)
    opened = crypto_cli("open", str(bundle_file), "-k", str(key_file))
    assert opened.returncode == 0, opened.stderr
    assert "Title: OFFLINE-TITLE" in opened.stdout
    assert "OFFLINE-STORY" in opened.stdout
    assert "A FOLLOW-UP FROM THE REQUESTER" in opened.stdout

    assert f'href="/cases/{public_id}/offline"' in case
    arguments = _seal_arguments(volunteer, public_id, tmp_path)
    reply_file = tmp_path / "reply.json"
    sealed = crypto_cli("seal", *arguments, "-o", str(reply_file),
                        stdin="OFFLINE-REPLY sealed on my own machine")
    assert sealed.returncode == 0, sealed.stderr
    posted = _upload(volunteer, public_id, reply_file.read_bytes())
    assert posted.status_code == 302  # type: ignore[attr-defined]
    assert "OFFLINE-REPLY sealed on my own machine" in asker.get(
        f"/requests/{public_id}").get_data(as_text=True)
    again = _upload(volunteer, public_id, reply_file.read_bytes())
    assert "uploaded already" in again.get_data(as_text=True)  # type: ignore[attr-defined]


def _other_ad(data: bytes) -> bytes:
    bundle = load_bundle(data)
    item = bundle.items[0]
    moved = BundleItem(item.associated_data.replace(b"haven/message/", b"haven/request/"),
                       item.envelope)
    return dump_bundle(Bundle(bundle.kind, (moved,))).encode()


@pytest.mark.parametrize(("mutate", "message"), [
    (lambda data: b"not json at all", "not a Haven bundle"),
    (_other_ad, "not sealed for a Haven"),
])
def test_bad_uploads_are_explained(offline: tuple[FlaskClient, Path], public_app: Flask,
                                   tmp_path: Path, mutate: object, message: str) -> None:
    volunteer, _ = offline
    asker = public_app.test_client()
    requester.new_account(asker)
    public_id = requester.submitted_id(asker)
    seal_arguments = _seal_arguments(volunteer, public_id, tmp_path)
    reply_file = tmp_path / "reply.json"
    crypto_cli("seal", *seal_arguments, "-o", str(reply_file), stdin="hello")
    data = mutate(reply_file.read_bytes())  # type: ignore[operator]
    response = _upload(volunteer, public_id, data)
    assert response.status_code == 400  # type: ignore[attr-defined]
    assert message in response.get_data(as_text=True)  # type: ignore[attr-defined]


def test_a_reply_missing_a_reader_is_refused(offline: tuple[FlaskClient, Path],
                                             public_app: Flask, tmp_path: Path) -> None:
    volunteer, _ = offline
    asker = public_app.test_client()
    requester.new_account(asker)
    public_id = requester.submitted_id(asker)
    words = _seal_arguments(volunteer, public_id, tmp_path)
    readers = Path(words[words.index("--to-file") + 1])
    assert len(readers.read_text().split()) == 2  # the operator and this volunteer
    only_first = ["--to", readers.read_text().split()[0], *words[words.index("--ad"):]]
    reply_file = tmp_path / "reply.json"
    crypto_cli("seal", *only_first, "-o", str(reply_file), stdin="hello")
    bundle = load_bundle(reply_file.read_bytes())
    assert len(bundle.items[0].envelope.stanzas) == 1
    response = _upload(volunteer, public_id, dump_bundle(bundle).encode())
    assert response.status_code == 400  # type: ignore[attr-defined]
    assert "exactly the current readers" in response.get_data(as_text=True)  # type: ignore[attr-defined]


def test_a_reply_that_does_not_open_breaks_nothing(offline: tuple[FlaskClient, Path],
                                                   public_app: Flask, staff_app: Flask,
                                                   tmp_path: Path) -> None:
    """A bundle of the right shape whose stanzas are noise is stored (the server
    cannot open it), and every page and login around it keeps working."""
    volunteer, _ = offline
    asker = public_app.test_client()
    codename = requester.new_account(asker)
    public_id = requester.submitted_id(asker)
    seal_arguments = _seal_arguments(volunteer, public_id, tmp_path)
    reply_file = tmp_path / "reply.json"
    crypto_cli("seal", *seal_arguments, "-o", str(reply_file), stdin="hello")
    bundle = load_bundle(reply_file.read_bytes())
    item = bundle.items[0]
    # Noise of each stanza's own format and size (hybrid for a hybrid reader).
    noise = {fp: s[:1] + b"y" * (len(s) - 1) for fp, s in item.envelope.stanzas.items()}
    broken = BundleItem(item.associated_data, type(item.envelope)(item.envelope.body, noise))
    assert _upload(volunteer, public_id,
                   dump_bundle(Bundle(bundle.kind, (broken,))).encode()
                   ).status_code == 302  # type: ignore[attr-defined]
    page = asker.get(f"/requests/{public_id}")
    assert page.status_code == 200
    assert "could not be opened" in page.get_data(as_text=True)
    assert volunteer.get(f"/cases/{public_id}").status_code == 200
    requester.logout(asker)
    assert requester.login(asker, codename).status_code == 302


def test_a_trailing_newline_in_the_ad_is_refused(offline: tuple[FlaskClient, Path],
                                                 public_app: Flask, tmp_path: Path) -> None:
    volunteer, _ = offline
    asker = public_app.test_client()
    requester.new_account(asker)
    public_id = requester.submitted_id(asker)
    words = _seal_arguments(volunteer, public_id, tmp_path)
    ad_at = words.index("--ad") + 1
    words[ad_at] += "\n"
    reply_file = tmp_path / "reply.json"
    crypto_cli("seal", *words, "-o", str(reply_file), stdin="hello")
    response = _upload(volunteer, public_id, reply_file.read_bytes())
    assert response.status_code == 400  # type: ignore[attr-defined]


def test_an_offline_volunteer_with_an_old_key_upgrades_it(
        staff_app: Flask, public_app: Flask, tmp_path: Path) -> None:
    """Issue 17: an offline volunteer registered with an X25519-only key is asked
    for a new one, makes it with ``crypto upgrade`` (same X25519 key, ML-KEM
    added), gives it on the account page, and is sealed to hybrid from then on,
    while the old key file keeps opening what was sealed before."""
    clock = install_clock(staff_app)
    cli_runner(staff_app).invoke(args=["operator", "create", "op"],
                                 input=f"{PASSPHRASE}\n{PASSPHRASE}\n")
    operator = staff_app.test_client()
    enrol(operator, clock, "op")
    # An old key file, as the tool made before hybrid keys.
    old = PrivateKey.generate()
    old_file = tmp_path / "old.key"
    old_file.write_text(encode_wrapped_key(
        wrap_private_key(old, KEY_PASSPHRASE, params=TEST_KDF_PARAMS)) + "\n")
    volunteer = staff_app.test_client()
    page = apply(volunteer, "old-key", skills=("legal",), languages=("fa",),
                 offline_key=encode_public_key(old.public_key))
    assert page.status_code == 200
    # The old key proves itself as any key does: its file opens the challenge.
    assert answer_key_check(volunteer, open_challenge(
        challenge_of(page.get_data(as_text=True)), old_file)).status_code == 200
    approve(operator, "old-key")
    enrol(volunteer, clock, "old-key")
    account = volunteer.get("/account").get_data(as_text=True)
    assert "Upgrade your key" in account
    asker = public_app.test_client()
    requester.new_account(asker)
    before = requester.submitted_id(asker, story="BEFORE-UPGRADE")

    # Another key is refused: the stored stanzas live under this X25519 key.
    stranger = crypto_cli("keygen", "-o", str(tmp_path / "other.key"), "--kdf-opslimit", "1",
                          "--kdf-memlimit-mib", "8").stdout.strip()
    assert _give_key(volunteer, stranger).status_code == 400
    upgraded = crypto_cli("upgrade", str(old_file), "-o", str(tmp_path / "new.key"))
    assert upgraded.returncode == 0, upgraded.stderr
    assert upgraded.stdout.startswith("haven-pk2:")
    assert _give_key(volunteer, upgraded.stdout.strip()).status_code == 302
    assert "Upgrade your key" not in volunteer.get("/account").get_data(as_text=True)

    after = requester.submitted_id(asker, story="AFTER-UPGRADE")
    for public_id, version, key_file in ((before, 1, old_file), (after, 2, tmp_path / "new.key")):
        bundle = volunteer.get(f"/cases/{public_id}/bundle.json")
        assert bundle.status_code == 200
        [stanza] = load_bundle(bundle.get_data()).items[0].envelope.stanzas.values()
        assert stanza_version(stanza) == version
        (tmp_path / f"{public_id}.json").write_bytes(bundle.get_data())
        opened = crypto_cli("open", str(tmp_path / f"{public_id}.json"), "-k", str(key_file))
        assert opened.returncode == 0, opened.stderr
    # The upgraded key file opens the old, X25519-only stanza too.
    assert "BEFORE-UPGRADE" in crypto_cli(
        "open", str(tmp_path / f"{before}.json"), "-k", str(tmp_path / "new.key")).stdout


def _give_key(client: FlaskClient, text: str) -> object:
    return client.post("/account/public-key", data={
        "csrf_token": csrf(client, "/account"), "public_key": text})
