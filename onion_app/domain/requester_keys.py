"""Requester keys: a codename in, a lookup id and keys out; which key opens a request.

The installation's salt and KDF cost are made once and kept in the database:
they are part of every requester's key, so they must never change under an
existing installation (a new default cost applies only to new installations).

Each request is sealed to its own requester key, derived from the codename and
the request's public id, so that volunteers on two requests cannot link them;
requests made before that are sealed to the account key and still open with it.
"""

from __future__ import annotations

import hashlib
import hmac
import struct
from collections.abc import Callable

from crypto.hybrid import ReaderPrivateKey
from crypto.kdf import KdfParams
from crypto.requester import RequesterKeys, derive_requester_keys, new_install_salt
from onion_app.config import Config
from onion_app.domain.kdf_gate import Busy, KdfGate
from onion_app.store import settings
from onion_app.store.connection import Connection


def install_params(conn: Connection, config: Config) -> tuple[bytes, KdfParams]:
    """The installation's requester salt and KDF cost, made on first use."""
    salt = settings.ensure(conn, "requester_salt", new_install_salt)
    packed = settings.ensure(conn, "requester_kdf", lambda: struct.pack(
        ">II", config.kdf_opslimit, config.kdf_memlimit_kib * 1024))
    opslimit, memlimit = struct.unpack(">II", packed)
    return salt, KdfParams(opslimit=opslimit, memlimit=memlimit)


def derive(connect: Callable[[], Connection], config: Config, codename: str,
           gate: KdfGate) -> RequesterKeys:
    """Derives a requester's keys, holding one of the few KDF slots meanwhile.

    :param connect: gives the database connection; not called when every slot
        is taken, so a refused login costs no database work (under a flood of
        logins, most are refused)
    :raises Busy: if every slot is taken
    :raises InvalidCodename: if the text is not a codename
    """
    if not gate.has_room():
        raise Busy("every key derivation slot is taken")
    # Here, in the request's thread (its connection belongs to it), and
    # before taking a slot: opening the database may itself need one.
    salt, params = install_params(connect(), config)
    return gate.run(lambda: derive_requester_keys(codename, salt, params=params))


def request_key(keys: RequesterKeys, public_id: str, version: int | None) -> ReaderPrivateKey:
    """The requester's private key for one request, derived in memory.

    :param version: the request's stored ``requester_key_version``; None for a
        request made before per-request keys, which the account key opens.
    :raises InvalidInput: if ``version`` is one this Haven does not know
    """
    if version is None:
        return keys.private_key
    return keys.request_key(public_id, version=version)


def pending_tag(secret_key: bytes, codename: str) -> str:
    """A keyed tag of a codename just shown, so the session can hold proof of it
    without holding the codename itself."""
    return hmac.new(secret_key, codename.encode(), hashlib.sha256).hexdigest()
