"""Volunteer keys: passphrase rules, key wrapping, and checking a login.

A login runs argon2id twice (the verifier, then the unwrap), each inside one
of the process's few KDF slots; an unknown handle is checked against a dummy
verifier (made once per process, inside the gate: :class:`DummyVerifier`) so a
failure takes the same time whether or not the handle exists.

New keys are hybrid (X25519 + ML-KEM-768). A volunteer whose wrapped key
predates that gains an ML-KEM key at their next sign-in (:func:`gain_mlkem_key`),
a third argon2id run, once.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from typing import TypeVar

from nacl.public import PrivateKey

from crypto.hybrid import (
    HybridPrivateKey,
    HybridPublicKey,
    ReaderPrivateKey,
    ReaderPublicKey,
    gain_mlkem,
    x25519_public,
)
from crypto.kdf import KdfParams
from crypto.keytext import decode_public_key
from crypto.volunteer import hash_passphrase, rewrap, unwrap_private_key, verify_passphrase
from crypto.volunteer import wrap_private_key as wrap
from onion_app.domain.kdf_gate import KdfGate
from onion_app.i18n import gettext as _
from onion_app.i18n import number
from onion_app.store import staff
from onion_app.store.connection import Connection
from onion_app.store.rows import Volunteer

PASSPHRASE_MIN = 12
T = TypeVar("T")


@functools.cache
def common_passphrases() -> frozenset[str]:
    text = resources.files("onion_app.domain").joinpath("common_passphrases.txt")
    return frozenset(line.strip() for line in text.read_text("utf-8").splitlines() if line)


def passphrase_problem(passphrase: str, handle: str) -> str | None:
    """Why a new passphrase is refused, in words for the person; None if it is fine."""
    if len(passphrase) < PASSPHRASE_MIN:
        return _("Use at least %(count)s characters: a few unrelated words are easy to "
                 "remember and hard to guess.", count=number(PASSPHRASE_MIN))
    folded = passphrase.casefold()
    if folded in common_passphrases() or len(set(folded)) <= 2:
        return _("That passphrase is on the lists attackers try first. Choose another: "
                 "a few unrelated words work well.")
    if handle and _mostly_handle(folded, handle.casefold()):
        return _("Your passphrase is mostly your handle, which anyone can see. Add a few "
                 "words of your own.")
    return None


def _mostly_handle(folded: str, handle: str) -> bool:
    """Whether what is left once the handle is taken out would be refused on
    its own. A short handle inside a word ("op" in "copper") leaves plenty;
    "berlin-lawyer 2024" leaves almost nothing."""
    if handle not in folded:
        return False
    rest = folded.replace(handle, "")
    return len(rest) < PASSPHRASE_MIN or len(set(rest)) <= 2 or rest.strip() in common_passphrases()


@dataclass(frozen=True)
class NewKeys:
    """What an application stores: public key (its X25519 and ML-KEM-768
    halves), wrapped private key, verifier."""

    public_key: bytes
    wrapped_key: bytes | None
    passphrase_hash: bytes
    mlkem_public_key: bytes | None = None


class DummyVerifier:
    """The verifier an unknown handle is checked against, made once per process.

    Made per login, it would be one more 256 MiB derivation that nothing
    bounds (eight unknown handles at once took a fresh server to 1.8 GiB), so
    it is made once, inside the gate like every other derivation: at start
    (:meth:`prepare`), or by whichever login first needs it.
    """

    def __init__(self) -> None:
        self._made: dict[KdfParams, bytes] = {}
        self._lock = threading.Lock()

    def prepare(self, params: KdfParams, gate: KdfGate) -> bytes:
        """The dummy verifier at ``params``, made now if it was not yet,
        waiting for a slot: for start-up, where nobody waits on a page."""
        with self._lock:
            if params not in self._made:
                with gate.waiting_slot():
                    self._made[params] = _dummy(params)
            return self._made[params]

    def get(self, params: KdfParams, gate: KdfGate) -> bytes:
        """The dummy verifier at ``params``; made in a slot if it was not yet.

        :raises Busy: if it must be made and every slot is taken
        """
        with self._lock:
            if params not in self._made:
                self._made[params] = gate.run(functools.partial(_dummy, params))
            return self._made[params]


def _dummy(params: KdfParams) -> bytes:
    return hash_passphrase("not any volunteer's passphrase", params=params)


@dataclass(frozen=True)
class Stretching:
    """The process's argon2id: the cost for new keys, the bound on how many
    derivations run at once, and the process's one dummy verifier."""

    params: KdfParams
    gate: KdfGate
    dummy: DummyVerifier

    def run(self, work: Callable[[], T]) -> T:
        """Runs ``work`` inside one slot of the gate, on its low-priority threads.

        :raises Busy: if every slot is taken
        """
        return self.gate.run(work)


def keys_for(passphrase: str, offline_key: str | None, stretching: Stretching) -> NewKeys:
    """Makes a wrapped hybrid key pair, or takes an offline volunteer's public key
    (a ``haven-pk2`` key is hybrid; an old ``haven-pk1`` key is X25519 only).

    :raises InvalidPublicKey: if ``offline_key`` is not a Haven public key
    :raises Busy: if the process is at its bound on key derivations
    """
    params = stretching.params
    verifier = stretching.run(lambda: hash_passphrase(passphrase, params=params))
    if offline_key:
        return _new_keys(decode_public_key(offline_key.strip()), None, verifier)
    private_key = new_key_pair()
    wrapped = stretching.run(lambda: wrap(private_key, passphrase, params=params))
    return _new_keys(private_key.public_key, wrapped, verifier)


def _new_keys(public: ReaderPublicKey, wrapped: bytes | None, verifier: bytes) -> NewKeys:
    mlkem = public.mlkem if isinstance(public, HybridPublicKey) else None
    return NewKeys(bytes(x25519_public(public)), wrapped, verifier, mlkem)


def new_key_pair() -> ReaderPrivateKey:
    """A new volunteer's key pair: hybrid, so nothing is ever sealed to them
    with X25519 alone."""
    return gain_mlkem(PrivateKey.generate())


def check_passphrase(conn: Connection, handle: str, passphrase: str,
                     stretching: Stretching) -> Volunteer | None:
    """The volunteer row if handle and passphrase match; None otherwise, in equal time.

    :raises Busy: if the process is at its bound on key derivations
    """
    row = staff.by_handle(conn, handle)
    verifier = (row.passphrase_hash if row is not None
                else stretching.dummy.get(stretching.params, stretching.gate))
    ok = stretching.run(lambda: verify_passphrase(verifier, passphrase))
    return row if ok and row is not None else None


def unlock(row: Volunteer, passphrase: str, stretching: Stretching) -> ReaderPrivateKey | None:
    """The private key, unwrapped; None for an offline-only volunteer.

    :raises WrongPassphrase: if the passphrase does not unwrap it
    :raises Busy: if the process is at its bound on key derivations
    """
    if row.wrapped_key is None:
        return None
    wrapped = bytes(row.wrapped_key)
    return stretching.run(lambda: unwrap_private_key(wrapped, passphrase))


def gain_mlkem_key(conn: Connection, row: Volunteer, key: PrivateKey, passphrase: str,
                   stretching: Stretching) -> HybridPrivateKey:
    """Gives a volunteer whose key is X25519 only an ML-KEM-768 key beside it,
    wrapped under the passphrase they have just signed in with, and stores it.

    The X25519 half is kept, so their fingerprint and stanzas stay where they
    are; the caller then upgrades their stanzas. The caller commits.

    :raises Busy: if the process is at its bound on key derivations
    """
    hybrid = gain_mlkem(key)
    params = stretching.params
    wrapped = stretching.run(lambda: wrap(hybrid, passphrase, params=params))
    staff.update(conn, row.id, wrapped_key=wrapped,
                 mlkem_public_key=hybrid.public_key.mlkem)
    return hybrid


def rewrapped(row: Volunteer, old: str, new: str,
              stretching: Stretching) -> tuple[bytes | None, bytes]:
    """The key wrapped under a new passphrase, and the new verifier.

    :raises WrongPassphrase: if ``old`` does not unwrap the key
    :raises Busy: if the process is at its bound on key derivations
    """
    params = stretching.params
    wrapped = None
    if row.wrapped_key is not None:
        old_wrapped = bytes(row.wrapped_key)
        wrapped = stretching.run(lambda: rewrap(old_wrapped, old, new, params=params))
    return wrapped, stretching.run(lambda: hash_passphrase(new, params=params))
