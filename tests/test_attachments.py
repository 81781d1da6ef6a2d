"""Files with requests and replies, through both apps: what a volunteer
downloads has its hidden metadata removed (read back with exiftool), the
original is kept only when asked, failures give the sender a choice, refusals
keep the form, and nothing of a file is left in the clear anywhere."""

from __future__ import annotations

import io
import os
import re
import time
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from onion_app.config import Config
from onion_app.domain import attachments, retention
from onion_app.store import Database
from onion_app.store import attachments as files_store
from onion_app.web.factory import create_app
from onion_app.web.state import Runtime
from onion_app.web.uploads import GIVE_BACK_TURN
from tests import attachment_files as files
from tests import journey as requester
from tests.database_pages import decrypted_pages
from tests.haven_cli import cli_runner
from tests.journey import csrf
from tests.staff_journey import PASSPHRASE, StepClock, apply, approve, enrol, install_clock

LINK = re.compile(r'<a href="(/(?:requests|cases)/[A-Za-z0-9_-]{22}/files/[A-Za-z0-9_-]{22})">'
                  r"<bdi>([^<]+)</bdi></a> \(([^)]*)\)([^<]*)</li>")


@dataclass
class Site:
    staff: Flask
    public: Flask
    clock: StepClock


@pytest.fixture
def site(staff_app: Flask, public_app: Flask) -> Site:
    clock = install_clock(staff_app)
    result = cli_runner(staff_app).invoke(
        args=["operator", "create", "op"], input=f"{PASSPHRASE}\n{PASSPHRASE}\n")
    assert result.exit_code == 0, result.output
    return Site(staff_app, public_app, clock)


def volunteer(site: Site, handle: str = "berlin-lawyer") -> FlaskClient:
    operator = site.staff.test_client()
    enrol(operator, site.clock, "op")
    client = site.staff.test_client()
    assert apply(client, handle).status_code == 200
    approve(operator, handle)
    enrol(client, site.clock, handle)
    return client


def upload(name: str, data: bytes) -> tuple[io.BytesIO, str]:
    return io.BytesIO(data), name


def ask(client: FlaskClient, sent: Iterable[tuple[str, bytes]], **fields: Any) -> Any:
    data = requester.request_fields(**fields)
    data["csrf_token"] = csrf(client, "/requests/new")
    data["files"] = [upload(name, content) for name, content in sent]
    return client.post("/requests/new", data=data, content_type="multipart/form-data")


def asked(site: Site, sent: Iterable[tuple[str, bytes]], **fields: Any) -> tuple[FlaskClient, str]:
    client = site.public.test_client()
    requester.new_account(client)
    response = ask(client, sent, **fields)
    assert response.status_code == 302, response.get_data(as_text=True)[-3000:]
    found = requester.REQUEST_URL.match(response.location)
    assert found
    return client, found.group(1)


def links(page: str) -> list[tuple[str, str, str, str]]:
    return [(m.group(1), m.group(2), m.group(3), m.group(4).strip()) for m in LINK.finditer(page)]


def downloaded(client: FlaskClient, url: str) -> bytes:
    response = client.get(url)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/octet-stream"
    assert response.headers["Content-Disposition"].startswith("attachment; filename=")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in response.headers["Content-Security-Policy"].split("; ")
    assert response.headers["Cache-Control"] == "no-store"
    return response.get_data()


def docx_text(data: bytes) -> str:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return "".join(archive.read(name).decode("utf-8", "replace")
                       for name in archive.namelist())


def revealing(kind: str, data: bytes) -> list[str]:
    """The identifying things exiftool (or, for a DOCX's tracked changes, the
    document's XML) finds in ``data``."""
    found = [str(value) for name, value in files.metadata(data).items()
             if "GPS" in name or any(s in str(value) for s in files.SECRETS[kind])]
    if kind == "docx":
        text = docx_text(data)
        found += [s for s in files.SECRETS["docx"] if s in text]
        found += [tag for tag in ("<w:ins ", "<w:del ", "<cp:revision>") if tag in text]
    return found


FIXTURES = {"jpeg": ("camera.jpg", files.jpeg), "pdf": ("summons.pdf", files.pdf),
            "docx": ("contract.docx", files.docx)}


@pytest.mark.parametrize("kind", sorted(FIXTURES))
def test_a_volunteer_receives_the_file_without_its_hidden_metadata(site: Site,
                                                                   kind: str) -> None:
    name, make = FIXTURES[kind]
    original = make()
    assert revealing(kind, original)  # the fixture does carry what must go
    helper = volunteer(site)
    _, public_id = asked(site, [(name, original)])
    page = helper.get(f"/cases/{public_id}").get_data(as_text=True)
    [(url, shown, _size, note)] = links(page)
    assert shown == name
    assert note == ""  # the cleaned copy carries no warning
    received = downloaded(helper, url)
    assert received != original
    assert revealing(kind, received) == []
    if kind == "docx":
        assert "The contract says" in docx_text(received)  # the words themselves stay


def test_keep_the_original_sends_it_byte_for_byte_beside_the_cleaned_copy(site: Site) -> None:
    original = files.jpeg()
    helper = volunteer(site)
    client = site.public.test_client()
    requester.new_account(client)
    data = requester.request_fields(csrf_token=csrf(client, "/requests/new"),
                                    files=[upload("camera.jpg", original)], keep_original="yes")
    sent = client.post("/requests/new", data=data, content_type="multipart/form-data")
    assert sent.status_code == 302
    public_id = sent.location.rsplit("/", 1)[1]
    page = helper.get(f"/cases/{public_id}").get_data(as_text=True)
    (cleaned_url, _, _, cleaned_note), (original_url, _, _, original_note) = links(page)
    assert cleaned_note == ""
    assert "it may identify its sender" in original_note
    assert revealing("jpeg", downloaded(helper, cleaned_url)) == []
    assert downloaded(helper, original_url) == original
    # The requester sees both too, and downloads the same bytes.
    mine = client.get(f"/requests/{public_id}").get_data(as_text=True)
    assert [link[0].split("/")[-1] for link in links(mine)] == [
        cleaned_url.split("/")[-1], original_url.split("/")[-1]]
    assert downloaded(client, links(mine)[1][0]) == original


BROKEN_PDF = b"%PDF-1.4\n" + b"\x00\xff this is not a PDF at all " * 40


def test_a_file_the_remover_fails_on_gets_a_choice_not_an_error(site: Site) -> None:
    helper = volunteer(site)
    client = site.public.test_client()
    requester.new_account(client)
    refused = ask(client, [("summons.pdf", BROKEN_PDF), ("camera.jpg", files.jpeg())],
                  story="KEPT-STORY")
    assert refused.status_code == 400
    page = refused.get_data(as_text=True)
    assert "could not remove the hidden data" in page
    assert "<bdi>summons.pdf</bdi>" in page
    assert "KEPT-STORY" in page  # what was typed is kept
    token = re.search(r'name="held" value="([^"]+)"', page)
    assert token
    # The sender chooses to send the original, knowing the risk.
    data = requester.request_fields(story="KEPT-STORY", held=token.group(1),
                                    on_failure="original",
                                    csrf_token=re.search(r'name="csrf_token" value="([^"]+)"',
                                                         page).group(1))  # type: ignore[union-attr]
    sent = client.post("/requests/new", data=data)
    assert sent.status_code == 302, sent.get_data(as_text=True)[-2000:]
    public_id = sent.location.rsplit("/", 1)[1]
    shown = links(helper.get(f"/cases/{public_id}").get_data(as_text=True))
    assert [s[1] for s in shown] == ["camera.jpg", "summons.pdf"]
    assert "hidden data not removed" in shown[1][3]
    assert downloaded(helper, shown[1][0]) == BROKEN_PDF
    # A held token works once, and only for its owner.
    again = client.post("/requests/new", data={**data, "title": "again"})
    assert again.status_code == 400
    assert "waited too long" in again.get_data(as_text=True)


def test_sending_without_the_failed_file(site: Site) -> None:
    client = site.public.test_client()
    requester.new_account(client)
    page = ask(client, [("summons.pdf", BROKEN_PDF)]).get_data(as_text=True)
    token = re.search(r'name="held" value="([^"]+)"', page)
    assert token
    sent = client.post("/requests/new", data=requester.request_fields(
        held=token.group(1), on_failure="without", csrf_token=csrf(client, "/requests/new")))
    assert sent.status_code == 302
    assert links(client.get(sent.location).get_data(as_text=True)) == []


@pytest.mark.parametrize(("name", "data", "words"), [
    ("summons.pdf", b"MZ\x90\x00\x03" + bytes(range(256)) * 4, "does not take this kind"),
    ("notes.txt", b"", "does not take this kind"),
], ids=["a program named .pdf", "an empty file"])
def test_a_file_of_another_kind_is_refused_and_the_form_kept(site: Site, name: str,
                                                              data: bytes, words: str) -> None:
    client = site.public.test_client()
    requester.new_account(client)
    response = ask(client, [(name, data)], story="KEPT-STORY")
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert words in page
    assert f"<bdi>{name}</bdi>" in page
    assert "KEPT-STORY" in page
    assert "choose the files again" in page
    assert "Need a lawyer" not in client.get("/requests").get_data(as_text=True)


def test_limits_on_count_and_size(initialised: Config, runtime: Runtime) -> None:
    config = initialised.with_changes(attachments_per_message=2, attachment_max_bytes=4096)
    client = create_app("public", config, runtime).test_client()
    requester.new_account(client)
    text = b"a plain note\n"
    too_many = ask(client, [(f"n{i}.txt", text) for i in range(config.attachments_per_message
                                                               + 1)])
    assert too_many.status_code == 400
    assert "too many files" in too_many.get_data(as_text=True)
    too_large = ask(client, [("big.txt", b"a" * (config.attachment_max_bytes + 1))])
    assert too_large.status_code == 400
    assert "too large" in too_large.get_data(as_text=True)


def test_replies_carry_files_both_ways(site: Site) -> None:
    helper = volunteer(site)
    client, public_id = asked(site, [])
    note = b"The hearing is on Monday.\n"
    sent = helper.post(f"/cases/{public_id}/reply", content_type="multipart/form-data", data={
        "csrf_token": csrf(helper, f"/cases/{public_id}"), "text": "See the file.",
        "files": [upload("hearing.txt", note)]})
    assert sent.status_code == 302, sent.get_data(as_text=True)[-2000:]
    photo = files.jpeg()
    answered = client.post(f"/requests/{public_id}/reply", content_type="multipart/form-data",
                           data={"csrf_token": csrf(client, f"/requests/{public_id}"),
                                 "text": "Here is the notice.",
                                 "files": [upload("notice.jpg", photo)]})
    assert answered.status_code == 302
    mine = links(client.get(f"/requests/{public_id}").get_data(as_text=True))
    theirs = links(helper.get(f"/cases/{public_id}").get_data(as_text=True))
    assert [m[1] for m in mine] == [t[1] for t in theirs] == ["hearing.txt", "notice.jpg"]
    assert downloaded(client, mine[0][0]) == note
    assert revealing("jpeg", downloaded(helper, theirs[1][0])) == []


def test_a_download_gives_its_turn_back_before_opening_the_file(site: Site) -> None:
    helper = volunteer(site)
    client, public_id = asked(site, [("hearing.txt", b"The hearing is on Monday.\n")])
    given_back: list[str] = []
    for who, page in ((client, f"/requests/{public_id}"), (helper, f"/cases/{public_id}")):
        [(url, _name, _size, _note)] = links(who.get(page).get_data(as_text=True))
        # As served, a page with the turn finds this in its environ (serving/turns.py).
        answer = who.get(url, environ_base={GIVE_BACK_TURN: lambda url=url: given_back.append(url)})
        assert answer.status_code == 200
        assert answer.get_data() == b"The hearing is on Monday.\n"
    assert len(given_back) == 2
    assert given_back[0].startswith("/requests/")
    assert given_back[1].startswith("/cases/")


def test_a_file_is_not_reachable_from_another_request_or_account(site: Site) -> None:
    helper = volunteer(site)
    owner, public_id = asked(site, [("n.txt", b"private note\n")])
    [(url, *_)] = links(owner.get(f"/requests/{public_id}").get_data(as_text=True))
    stranger = site.public.test_client()
    requester.new_account(stranger)
    assert stranger.get(url).status_code == 404
    _, other_id = asked(site, [])
    file_id = url.rsplit("/", 1)[1]
    assert owner.get(f"/requests/{other_id}/files/{file_id}").status_code == 404
    assert helper.get(f"/cases/{other_id}/files/{file_id}").status_code == 404


def test_files_are_deleted_with_their_request(site: Site, initialised: Config) -> None:
    client, public_id = asked(site, [("n.txt", b"private note\n")])
    client.post(f"/requests/{public_id}/delete",
                data={"csrf_token": csrf(client, f"/requests/{public_id}/delete")})
    with Database(initialised).connect() as conn:
        assert conn.execute("SELECT count(*) FROM attachments").fetchone()[0] == 0
        assert conn.execute("SELECT count(*) FROM attachment_chunks").fetchone()[0] == 0


def needles(data: bytes, width: int = 24) -> set[bytes]:
    """Slices of ``data`` that would show any stretch of it stored in clear:
    one every ``width`` bytes, skipping runs of one byte (padding, blank pixels)."""
    return {data[i:i + width] for i in range(0, max(len(data) - width, 1), width)
            if len(set(data[i:i + width])) > 4}


def test_no_clear_byte_of_any_file_is_left_in_the_database_or_on_disk(
        site: Site, initialised: Config, database: Database) -> None:
    started = time.time()
    helper = volunteer(site)
    sent = {"camera.jpg": files.jpeg(), "summons.pdf": files.pdf(), "contract.docx": files.docx()}
    client = site.public.test_client()
    requester.new_account(client)
    data = requester.request_fields(csrf_token=csrf(client, "/requests/new"), keep_original="yes",
                                    files=[upload(n, d) for n, d in sent.items()])
    response = client.post("/requests/new", data=data, content_type="multipart/form-data")
    assert response.status_code == 302
    public_id = response.location.rsplit("/", 1)[1]
    reply_note = b"Bring the summons and your passport on Monday.\n" * 20
    helper.post(f"/cases/{public_id}/reply", content_type="multipart/form-data", data={
        "csrf_token": csrf(helper, f"/cases/{public_id}"), "text": "ok",
        "files": [upload("hearing.txt", reply_note)]})
    shown = links(helper.get(f"/cases/{public_id}").get_data(as_text=True))
    assert len(shown) == 7  # three cleaned, three originals, one reply
    clear = [downloaded(helper, url) for url, *_ in shown]
    looked_for = set().union(*(needles(d) for d in clear))
    looked_for |= {s.encode() for secret in files.SECRETS.values() for s in secret}
    pages = decrypted_pages(database)
    assert [n for n in looked_for if n in pages] == []
    for folder in (Path("/tmp"), initialised.instance_path):
        # os.walk passes over folders that vanish while it looks (other
        # processes share /tmp), where Path.rglob would raise.
        for parent, _, names in os.walk(folder):
            for name in names:
                path = Path(parent) / name
                try:
                    if not path.is_file() or path.stat().st_mtime < started - 1:
                        continue
                    content = path.read_bytes()
                except OSError:
                    continue  # another process's file, gone or closed to us
                assert [n for n in looked_for if n in content] == [], path


def test_the_purge_forgets_files_down_to_their_ciphertext(site: Site, database: Database,
                                                          initialised: Config) -> None:
    asked(site, [("n.txt", b"private note\n" * 100)])
    with Database(initialised).connect() as conn:
        sealed = [bytes(row[0]) for row in conn.execute("SELECT chunk FROM attachment_chunks")]
        assert len(sealed) == 1
        conn.execute("UPDATE requests SET updated_on = '2020-01-01'")
        conn.commit()
        assert retention.purge(conn, 30).requests == 1
        assert conn.execute("SELECT count(*) FROM attachments").fetchone()[0] == 0
    pages = decrypted_pages(database)
    # secure_delete zeroed the pages the chunks lived in: not even ciphertext is left.
    assert [n for n in needles(sealed[0]) if n in pages] == []


def test_a_volunteer_matched_later_reads_the_files_too(site: Site,
                                                       initialised: Config) -> None:
    client = site.public.test_client()
    codename = requester.new_account(client)
    note = b"Seen by whoever reads the request.\n"
    response = ask(client, [("n.txt", note)], skills=["care"], languages=["fa"])
    public_id = response.location.rsplit("/", 1)[1]
    with Database(initialised).connect() as conn:
        _, key = requester.add_volunteer(conn, "late-doctor", ["care"], ["fa"])
        row = conn.execute("SELECT id FROM requests WHERE public_id = ?",
                           (public_id,)).fetchone()
        [stored] = files_store.files_of_request(conn, int(row[0]))
        assert attachments.open_file(conn, int(row[0]), public_id, stored.public_id, key) is None
    requester.logout(client)
    assert requester.login(client, codename).status_code == 302  # re-matching at sign-in
    with Database(initialised).connect() as conn:
        opened = attachments.open_file(conn, int(row[0]), public_id, stored.public_id, key)
    assert opened is not None
    assert opened.data == note
