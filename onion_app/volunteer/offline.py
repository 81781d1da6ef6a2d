"""Offline mode: a request and its thread as a bundle, and replies sealed elsewhere.

For volunteers who keep their private key off the server entirely, and for
anyone who would rather decrypt on their own machine with ``python -m crypto``.
The server never sees a plaintext here: it hands out ciphertext and takes back
ciphertext sealed to every current reader.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from flask import abort, render_template
from nacl.public import PublicKey
from werkzeug.wrappers import Response

from crypto.bundle import Bundle, BundleFile, BundleItem, dump_bundle, load_bundle
from crypto.envelope import Envelope, body_size
from crypto.errors import DecryptionError, InvalidBundle
from crypto.keys import fingerprint
from crypto.keytext import encode_public_key
from crypto.stanza import HYBRID_STANZA_VERSION, STANZA_VERSION, stanza_version
from onion_app.domain import sealing
from onion_app.i18n import gettext as _
from onion_app.store import attachments as files_store
from onion_app.store import caseload
from onion_app.store import requests as rows
from onion_app.store.connection import Connection
from onion_app.store.rows import RequestRow
from onion_app.volunteer import blueprint
from onion_app.volunteer.forms import UploadForm
from onion_app.web import auth
from onion_app.web.sessions import Session
from onion_app.web.staff_auth import signed_in_volunteer
from onion_app.web.state import get_db

_MESSAGE_AD = re.compile(r"haven/message/([A-Za-z0-9_-]{22})/v1")
MAX_UPLOAD = 2 * body_size(sealing.MESSAGE_MAX_SIZE) + 64 * 1024


@dataclass(frozen=True)
class ReplySlot:
    """What the offline tool needs to seal a reply: the readers file and the AD."""

    associated_data: str
    readers_file: str

    @property
    def command(self) -> str:
        return (f"python -m crypto seal --to-file {self.readers_file} "
                f"--ad {self.associated_data} -o reply.json")


def reply_slot(row: RequestRow) -> ReplySlot:
    # A fresh message id each time: the reply is sealed to it, and stored under it.
    return ReplySlot(sealing.message_ad(rows.new_public_id()).decode(),
                     readers_file_name(row.public_id))


def readers_file_name(public_id: str) -> str:
    return f"haven-{public_id}-readers.txt"


@blueprint.get("/cases/<public_id>/offline")
@auth.login_required
def offline_page(me: Session, public_id: str) -> tuple[str, int]:
    """The bundle, the readers file, the seal command and the upload."""
    row = caseload.request_for(get_db(), me.account_id, public_id)
    if row is None:
        abort(404)
    return page(row, UploadForm(), 200)


def page(row: RequestRow, upload: UploadForm, status: int) -> tuple[str, int]:
    """The offline page of a request, with ``upload`` as given (and its errors)."""
    return render_template("volunteer/offline.html", row=row, upload=upload,
                           reply_slot=reply_slot(row)), status


@blueprint.get("/cases/<public_id>/readers.txt")
@auth.login_required
def readers_file(me: Session, public_id: str) -> Response:
    """Every current reader's public key, one a line, for ``crypto seal --to-file``.

    A download rather than text on the page: each hybrid key is some 1.6 KB,
    and a request widened to a dozen readers would push the page past 10 KB.
    """
    conn = get_db()
    row = caseload.request_for(conn, me.account_id, public_id)
    if row is None:
        abort(404)
    keys = [encode_public_key(sealing.stored_reader_key(k.x25519, k.mlkem))
            for k in rows.request_reader_keys(conn, row.id)]
    response = Response("".join(f"{key}\n" for key in keys), mimetype="text/plain")
    response.headers["Content-Disposition"] = (
        f'attachment; filename="{readers_file_name(public_id)}"')
    return response


@blueprint.get("/cases/<public_id>/bundle.json")
@auth.login_required
def export_bundle(me: Session, public_id: str) -> Response:
    conn = get_db()
    row = caseload.request_for(conn, me.account_id, public_id)
    if row is None:
        abort(404)
    mine = fingerprint(PublicKey(bytes(signed_in_volunteer(me).public_key)))
    stanza = rows.request_stanza(conn, row.id, mine)
    if stanza is None:
        abort(404)
    files = _bundle_files(conn, row.id, public_id)
    items = [BundleItem(sealing.request_ad(public_id),
                        Envelope(rows.request_body(conn, row.id), {mine: stanza}),
                        files.get(None, ()))]
    for message in rows.thread_of(conn, row.id, mine):
        if message.stanza is not None:
            items.append(BundleItem(sealing.message_ad(message.public_id),
                                    Envelope(message.body,
                                             {mine: message.stanza}),
                                    files.get(message.id, ())))
    response = Response(dump_bundle(Bundle("request", tuple(items))),
                        mimetype="application/json")
    response.headers["Content-Disposition"] = f'attachment; filename="haven-{public_id}.json"'
    return response


def _bundle_files(conn: Connection, request_id: int,
                  public_id: str) -> dict[int | None, tuple[BundleFile, ...]]:
    """A request's sealed files by envelope (None: the request's own), as
    bundles carry them: ``python -m crypto open`` writes them out."""
    message_ids = files_store.message_public_ids(conn, request_id)
    found: dict[int | None, list[BundleFile]] = {}
    for stored in files_store.files_of_request(conn, request_id):
        parent, parent_id = (("request", public_id) if stored.message_id is None
                             else ("message", message_ids[stored.message_id]))
        found.setdefault(stored.message_id, []).append(BundleFile(
            stored.position, sealing.attachment_ad(parent, parent_id, stored.position),
            stored.header, tuple(files_store.chunks(conn, stored.id))))
    return {parent: tuple(files) for parent, files in found.items()}


def store_reply(conn: Connection, me: Session, row: RequestRow, data: bytes) -> str | None:
    """Checks an uploaded bundle and stores it as a message. :returns: a problem, or None"""
    if len(data) > MAX_UPLOAD:
        return _("That file is larger than any reply bundle can be.")
    if row.status != "open":
        return _("This request is no longer open; it takes no more replies.")
    try:
        bundle = load_bundle(data)
    except InvalidBundle:
        return _("That file is not a Haven bundle. Upload the file that %(command)s wrote.",
                 command="python -m crypto seal")
    if len(bundle.items) != 1:
        return _("A reply bundle holds exactly one message.")
    item = bundle.items[0]
    match = _MESSAGE_AD.fullmatch(item.associated_data.decode("ascii", "replace"))
    if match is None:
        return _("This bundle was not sealed for a Haven reply: use the command shown below.")
    message_id = match.group(1)
    if rows.message_exists(conn, message_id):
        return _("This reply was uploaded already.")
    # Each reader's stanza must be the format their key calls for: hybrid for
    # a reader with an ML-KEM key, so an upload cannot slip a reader back to X25519.
    readers = {fingerprint(PublicKey(k.x25519)):
               STANZA_VERSION if k.mlkem is None else HYBRID_STANZA_VERSION
               for k in rows.request_reader_keys(conn, row.id)}
    if set(item.envelope.stanzas) != set(readers):
        return _("The reply must be sealed to exactly the current readers of this request. "
                 "Readers may have changed: download the readers file again and seal "
                 "the reply again.")
    if len(item.envelope.body) > body_size(sealing.MESSAGE_MAX_SIZE):
        return _("That reply is longer than Haven accepts.")
    if any(_format(s) != readers[fp] for fp, s in item.envelope.stanzas.items()):
        return _("That bundle is damaged: seal the reply again with the command shown below.")
    rows.create_message(conn, request_id=row.id, public_id=message_id, from_requester=False,
                        author_volunteer_id=me.account_id, body=item.envelope.body,
                        stanzas=item.envelope.stanzas)
    return None


def _format(stanza: bytes) -> int | None:
    try:
        return stanza_version(stanza)
    except DecryptionError:
        return None
