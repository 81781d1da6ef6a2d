"""itsdangerous's signed values, with the signing keys prepared once.

Flask's session cookie and Flask-WTF's CSRF token are both made by an
itsdangerous ``URLSafeTimedSerializer``. Stock, it builds a new signer for
every value it signs or checks, the signer derives its key from the secret
and the salt again each time (for the session, an HMAC of its own), and the
HMAC runs in pure Python: Flask and itsdangerous name SHA-1 by a Python
function, which :mod:`hmac` cannot hand to OpenSSL. A first visit's sign-in
page signs twice (its token, its cookie), and that repeated work was about a
fifth of the whole answer in process (``bench/signing_bench.py``); every
signed-in request paid its share again to read its cookie.

:func:`prepared` gives the same serializer, whose signer
(:class:`PreparedSigner`) is made once and derives each key once, when it is
made. What comes out is itsdangerous's to the byte: the same keys and key
rotation, salt, key derivation, HMAC-SHA-1, time stamp, ``max_age`` check and
payload (JSON, zlib when it is shorter, URL-safe base64), so Flask, Flask-WTF
and a stock serializer accept it (tests/test_signing.py); only when the work
is done changes.
"""

from __future__ import annotations

import hmac
from typing import Any

from itsdangerous import URLSafeTimedSerializer
from itsdangerous.encoding import base64_decode, base64_encode, want_bytes
from itsdangerous.signer import HMACAlgorithm
from itsdangerous.timed import TimestampSigner

__all__ = ["PreparedSigner", "SignedOnce", "prepared"]


class PreparedSigner(TimestampSigner):
    """itsdangerous's ``TimestampSigner``, its keys derived when it is made.

    Each derived key (newest last, as ``secret_keys``) is kept as an HMAC
    object already keyed with it, which every signature copies: the key's
    own hashing is done once. The copies are the only thing one value's work
    touches, so one instance signs and checks for every thread.

    :raises TypeError: for a signing algorithm other than itsdangerous's HMAC,
        whose signatures this would not reproduce
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        algorithm = self.algorithm
        if type(algorithm) is not HMACAlgorithm:
            raise TypeError(f"{type(algorithm).__name__} is not HMACAlgorithm")
        # hashlib's name for the same hash (``_lazy_sha1`` -> "sha1"), which
        # hmac hands to OpenSSL; given the function, it runs HMAC in Python.
        digest = algorithm.digest_method().name
        self._keyed = tuple(hmac.new(self.derive_key(key), digestmod=digest)
                            for key in self.secret_keys)

    def get_signature(self, value: str | bytes) -> bytes:
        """The signature of ``value`` under the newest key, base64 as itsdangerous's."""
        return base64_encode(_mac(self._keyed[-1], want_bytes(value)))

    def verify_signature(self, value: str | bytes, sig: str | bytes) -> bool:
        """Whether ``sig`` is ``value``'s under any of the keys, newest first."""
        try:
            expected = base64_decode(sig)
        except Exception:  # as itsdangerous: a malformed signature is a wrong one
            return False
        value = want_bytes(value)
        return any(hmac.compare_digest(expected, _mac(keyed, value))
                   for keyed in reversed(self._keyed))


def _mac(keyed: hmac.HMAC, value: bytes) -> bytes:
    mac = keyed.copy()
    mac.update(value)
    return mac.digest()


class SignedOnce(URLSafeTimedSerializer):
    """itsdangerous's ``URLSafeTimedSerializer``, making its signer once.

    A salt other than its own (which nothing in Haven passes) gets a signer
    made for it, as stock.
    """

    default_signer = PreparedSigner

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._signer = super().make_signer(self.salt)

    def make_signer(self, salt: str | bytes | None = None) -> Any:
        if salt is None or want_bytes(salt) == self.salt:
            return self._signer
        return super().make_signer(salt)


def prepared(stock: URLSafeTimedSerializer) -> SignedOnce:
    """The serializer ``stock`` is, made with :class:`PreparedSigner`.

    Everything but the signer's class is taken from ``stock`` (keys, salt,
    payload serializer, signer options), so a value one makes the other
    reads.

    :param stock: a serializer as Flask or Flask-WTF build it
    :returns: one that signs and checks the same values, once keyed
    :raises TypeError: if ``stock`` has its own signer class or fallback
        signers, which this would not carry over
    """
    if stock.signer is not TimestampSigner or stock.fallback_signers:
        raise TypeError("only itsdangerous's TimestampSigner, without fallbacks, is prepared")
    return SignedOnce(stock.secret_keys, salt=stock.salt, serializer=stock.serializer,
                      serializer_kwargs=stock.serializer_kwargs,
                      signer_kwargs=stock.signer_kwargs)
