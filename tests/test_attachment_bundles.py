"""Attachments in offline bundles: the export carries each envelope's sealed
files, and ``python -m crypto open`` writes them to a folder."""

from __future__ import annotations

import io
from pathlib import Path

from flask import Flask
from flask.testing import FlaskClient

from crypto.bundle import load_bundle
from tests import attachment_files as files
from tests import journey as requester
from tests.journey import csrf
from tests.test_volunteer_offline import crypto_cli, offline  # noqa: F401  (a fixture)


def test_crypto_open_writes_the_files_of_a_bundle(
        offline: tuple[FlaskClient, Path], public_app: Flask,  # noqa: F811
        tmp_path: Path) -> None:
    volunteer, key_file = offline
    asker = public_app.test_client()
    requester.new_account(asker)
    note = "Notes on the hearing: سه‌شنبه\n".encode()
    data = requester.request_fields(csrf_token=csrf(asker, "/requests/new"),
                                    files=[(io.BytesIO(files.jpeg()), "../../camera.jpg"),
                                           (io.BytesIO(note), "notes.txt")])
    sent = asker.post("/requests/new", data=data, content_type="multipart/form-data")
    assert sent.status_code == 302
    public_id = sent.location.rsplit("/", 1)[1]
    follow_up = b"A second page.\n"
    asker.post(f"/requests/{public_id}/reply", content_type="multipart/form-data", data={
        "csrf_token": csrf(asker, f"/requests/{public_id}"), "text": "and this",
        "files": [(io.BytesIO(follow_up), "notes.txt")]})

    bundle = volunteer.get(f"/cases/{public_id}/bundle.json").get_data()
    items = load_bundle(bundle).items
    assert [len(item.files) for item in items] == [2, 1]
    bundle_file = tmp_path / f"haven-{public_id}.json"
    bundle_file.write_bytes(bundle)
    opened = crypto_cli("open", str(bundle_file), "-k", str(key_file))
    assert opened.returncode == 0, opened.stderr
    folder = tmp_path / f"haven-{public_id}-files"
    assert sorted(p.name for p in folder.iterdir()) == ["2-notes.txt", "camera.jpg",
                                                        "notes.txt"]
    assert (folder / "notes.txt").read_bytes() == note
    assert (folder / "2-notes.txt").read_bytes() == follow_up
    assert oct(folder.stat().st_mode & 0o777) == "0o700"
    assert oct((folder / "notes.txt").stat().st_mode & 0o777) == "0o600"
    photo = (folder / "camera.jpg").read_bytes()
    assert files.SECRETS["jpeg"][0] not in str(files.metadata(photo))
    assert f"item 1: {folder / 'camera.jpg'}" in opened.stderr
    # Opened again, nothing is overwritten: the new copies get new names.
    again = crypto_cli("open", str(bundle_file), "-k", str(key_file))
    assert again.returncode == 0, again.stderr
    assert (folder / "2-camera.jpg").read_bytes() == photo
