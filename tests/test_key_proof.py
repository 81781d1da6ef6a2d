"""The proof-of-possession challenge for offline keys, and the applications
waiting for it."""

from __future__ import annotations

import pytest
from nacl.public import PrivateKey

from crypto.bundle import load_bundle
from crypto.envelope import open_envelope
from crypto.errors import DecryptionError
from crypto.hybrid import gain_mlkem
from crypto.keys import fingerprint
from onion_app.domain import key_proof
from onion_app.store.staff import Application


def _application(handle: str = "offline") -> Application:
    return Application(handle=handle, public_key=b"k" * 32, wrapped_key=None,
                       passphrase_hash=b"h", skills=frozenset({"legal"}),
                       languages=frozenset({"fa"}), availability="weekly", bio="b",
                       references="r", mlkem_public_key=None, handle_skeleton=handle)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_the_challenge_opens_only_with_the_private_key() -> None:
    mine, other = PrivateKey.generate(), PrivateKey.generate()
    code = key_proof.new_code()
    bundle = load_bundle(key_proof.challenge_for(mine.public_key, code))
    [item] = bundle.items
    assert set(item.envelope.stanzas) == {fingerprint(mine.public_key)}
    stanza = item.envelope.stanzas[fingerprint(mine.public_key)]
    opened = open_envelope(item.envelope.body, stanza, mine, item.associated_data)
    assert opened.decode().strip() == code
    assert fingerprint(other.public_key) not in item.envelope.stanzas
    assert stanza[0] == 1  # a haven-pk1 key: an X25519 stanza


def test_a_hybrid_key_gets_a_hybrid_challenge_that_needs_both_halves() -> None:
    mine = gain_mlkem(PrivateKey.generate())
    code = key_proof.new_code()
    [item] = load_bundle(key_proof.challenge_for(mine.public_key, code)).items
    stanza = item.envelope.stanzas[fingerprint(mine.x25519.public_key)]
    assert stanza[0] == 2  # a haven-pk2 key: a hybrid stanza
    opened = open_envelope(item.envelope.body, stanza, mine, item.associated_data)
    assert opened.decode().strip() == code
    with pytest.raises(DecryptionError):
        open_envelope(item.envelope.body, stanza, mine.x25519, item.associated_data)


def test_codes_are_long_and_answers_forgive_layout_only() -> None:
    code = key_proof.new_code()
    assert len(code.replace("-", "")) == 32  # 160 bits of base32
    assert key_proof.answers(code, f"  {code.lower()}\n")
    assert key_proof.answers(code, code.replace("-", " "))
    assert not key_proof.answers(code, code[:-1])
    assert key_proof.new_code() != code


def test_a_right_answer_hands_the_application_over_once() -> None:
    proofs = key_proof.PendingProofs(clock=Clock())
    token = proofs.start(_application(), PrivateKey.generate().public_key)
    pending = proofs.get(token)
    assert pending is not None
    assert proofs.answer(token, "wrong") is None
    assert proofs.answer(token, pending.code) == _application()
    assert proofs.get(token) is None
    assert proofs.answer(token, pending.code) is None


def test_wrong_answers_use_up_the_application() -> None:
    proofs = key_proof.PendingProofs(clock=Clock())
    token = proofs.start(_application(), PrivateKey.generate().public_key)
    code = proofs.get(token).code  # type: ignore[union-attr]
    for _ in range(key_proof.MAX_ATTEMPTS):
        assert proofs.answer(token, "wrong") is None
    assert proofs.answer(token, code) is None


def test_applications_expire_and_are_bounded() -> None:
    clock = Clock()
    proofs = key_proof.PendingProofs(clock=clock)
    old = proofs.start(_application(), PrivateKey.generate().public_key)
    clock.now += key_proof.LIFETIME_SECONDS + 1
    assert proofs.get(old) is None
    tokens = [proofs.start(_application(f"a{n}"), PrivateKey.generate().public_key)
              for n in range(key_proof.CAPACITY + 1)]
    assert proofs.get(tokens[0]) is None  # the oldest made way
    assert proofs.get(tokens[-1]) is not None


@pytest.mark.parametrize("token", [None, "", "made-up"])
def test_unknown_tokens_find_nothing(token: str | None) -> None:
    assert key_proof.PendingProofs().get(token) is None
