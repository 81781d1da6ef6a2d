"""Prepared serializers sign exactly what itsdangerous's stock ones sign."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from flask import Flask
from flask.sessions import SecureCookieSessionInterface
from itsdangerous import (
    BadSignature,
    SignatureExpired,
    Signer,
    URLSafeTimedSerializer,
)
from itsdangerous.signer import NoneAlgorithm
from itsdangerous.timed import TimestampSigner

from onion_app.web.signing import PreparedSigner, SignedOnce, prepared

NOW = 1_800_000_000
KEY, OLD_KEY = b"k" * 32, b"o" * 32
# A secret as Flask-WTF makes one, and a signed-in session (whose hex digits
# zlib shortens, so its payload is the compressed kind).
SECRET = "3f786850e387550fdab836ed7e6dc881de23001b"
SESSION = {"csrf_token": SECRET, "sid": "Jd8s0Kq1cW3nY5-e7QmZpA" * 2}


@pytest.fixture(autouse=True)
def _clock(monkeypatch: pytest.MonkeyPatch) -> None:
    """Stock and prepared sign at one second, so that their bytes can be compared."""
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda _self: NOW)


def _later(monkeypatch: pytest.MonkeyPatch, seconds: int) -> None:
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda _self: NOW + seconds)


def _session_serializer(*keys: bytes) -> URLSafeTimedSerializer:
    """Flask's own, for an app whose key is the last of ``keys``."""
    app = Flask(__name__)
    app.secret_key = keys[-1]
    app.config["SECRET_KEY_FALLBACKS"] = list(keys[:-1])
    made = SecureCookieSessionInterface().get_signing_serializer(app)
    assert made is not None
    return made


def _csrf_serializer() -> URLSafeTimedSerializer:
    """Flask-WTF's own (``generate_csrf``, ``validate_csrf``)."""
    return URLSafeTimedSerializer(KEY, salt="wtf-csrf-token")


STOCK = {"session": (_session_serializer, SESSION), "csrf": (lambda *_: _csrf_serializer(), SECRET)}


@pytest.mark.parametrize("kind", sorted(STOCK))
def test_it_signs_what_the_stock_serializer_signs(kind: str) -> None:
    make, value = STOCK[kind]
    stock = make(KEY)
    ours = prepared(stock)
    assert ours.dumps(value) == stock.dumps(value)
    assert ours.loads(stock.dumps(value)) == value
    assert stock.loads(ours.dumps(value)) == value


def test_a_payload_zlib_shortens_is_compressed_as_stock() -> None:
    stock = _session_serializer(KEY)
    made = prepared(stock).dumps(SESSION)
    assert made.startswith(".")  # itsdangerous's mark of a compressed payload
    assert made == stock.dumps(SESSION)


def _other_signature(signed: str) -> str:
    # The signature's first character: all six of its bits count (the last's do not).
    value, signature = signed.rsplit(".", 1)
    return f"{value}.{'B' if signature[0] == 'A' else 'A'}{signature[1:]}"


@pytest.mark.parametrize("change", [
    _other_signature,
    lambda v: ("x" if v[0] != "x" else "y") + v[1:],  # the payload
    lambda v: v.rsplit(".", 1)[0],  # no signature at all
    lambda v: v.rsplit(".", 1)[0] + ".A",  # a signature that is not base64
])
def test_a_changed_value_is_refused(change: Any) -> None:
    stock = _session_serializer(KEY)
    changed = change(prepared(stock).dumps(SESSION))
    for serializer in (prepared(stock), stock):
        with pytest.raises(BadSignature):
            serializer.loads(changed)


def test_another_key_or_salt_is_refused() -> None:
    ours = prepared(_session_serializer(KEY))
    with pytest.raises(BadSignature):
        ours.loads(_session_serializer(OLD_KEY).dumps(SESSION))
    with pytest.raises(BadSignature):  # the CSRF token's salt is not the session's
        ours.loads(prepared(URLSafeTimedSerializer(KEY, salt="wtf-csrf-token")).dumps(SESSION))


def test_max_age_is_checked_both_ways(monkeypatch: pytest.MonkeyPatch) -> None:
    ours = prepared(_session_serializer(KEY))
    made = ours.dumps(SESSION)
    _later(monkeypatch, 100)
    assert ours.loads(made, max_age=100) == SESSION
    with pytest.raises(SignatureExpired):
        ours.loads(made, max_age=99)
    with pytest.raises(SignatureExpired):  # as stock: the same check, the same error
        _session_serializer(KEY).loads(made, max_age=99)
    _later(monkeypatch, -1)  # signed in the future: refused, as stock does
    with pytest.raises(SignatureExpired):
        ours.loads(made, max_age=100)


def test_the_old_key_still_verifies_and_the_new_one_signs() -> None:
    rotated = _session_serializer(OLD_KEY, KEY)
    ours = prepared(rotated)
    assert ours.loads(_session_serializer(OLD_KEY).dumps(SESSION)) == SESSION
    assert ours.dumps(SESSION) == _session_serializer(KEY).dumps(SESSION)


def test_the_signer_is_made_once_for_its_own_salt() -> None:
    ours = prepared(_csrf_serializer())
    assert ours.make_signer() is ours.make_signer(b"wtf-csrf-token") is ours.make_signer()
    other = ours.make_signer("another")
    assert other is not ours.make_signer()
    assert other.sign(b"v") == TimestampSigner(KEY, salt="another").sign(b"v")


@pytest.mark.parametrize("options", [
    {},
    {"key_derivation": "hmac"},  # Flask's session
    {"key_derivation": "concat"},
    {"key_derivation": "none"},
    {"digest_method": __import__("hashlib").sha256},
])
def test_the_signer_matches_stock_for_each_derivation(options: dict[str, Any]) -> None:
    ours, stock = (cls([OLD_KEY, KEY], salt="s", **options)
                   for cls in (PreparedSigner, TimestampSigner))
    assert ours.sign(b"value") == stock.sign(b"value")
    assert ours.unsign(stock.sign(b"value")) == b"value"
    assert ours.verify_signature(b"v", TimestampSigner(OLD_KEY, salt="s",
                                                      **options).get_signature(b"v"))


def test_what_it_would_not_reproduce_is_refused() -> None:
    with pytest.raises(TypeError, match="NoneAlgorithm"):
        PreparedSigner(KEY, algorithm=NoneAlgorithm())
    with pytest.raises(TypeError, match="TimestampSigner"):
        prepared(URLSafeTimedSerializer(KEY, signer=Signer))
    with pytest.raises(TypeError, match="TimestampSigner"):
        prepared(URLSafeTimedSerializer(KEY, fallback_signers=[{"digest_method": "sha512"}]))


def test_one_serializer_signs_for_many_threads() -> None:
    stock = _session_serializer(KEY)
    ours: SignedOnce = prepared(stock)
    made: list[tuple[dict[str, str], str]] = []

    def sign(number: int) -> None:
        for n in range(200):
            value = {"csrf_token": f"{number:02}{n:038}"}
            made.append((value, ours.dumps(value)))

    threads = [threading.Thread(target=sign, args=(number,)) for number in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(made) == 1600
    for value, signed in made:
        assert signed == stock.dumps(value)
