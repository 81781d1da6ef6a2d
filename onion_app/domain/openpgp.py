"""OpenPGP for the digest mail: check a volunteer's public key, encrypt to it.

GnuPG does the work, through python-gnupg. Each operation gets a throwaway
GNUPGHOME (a private temporary folder holding only the one public key, gone
when the operation ends), so no keyring accumulates and no operation sees
another volunteer's key. The plaintext goes to gpg through a pipe, never a
file.
"""

from __future__ import annotations

import contextlib
import logging
import subprocess
import tempfile
from collections.abc import Iterator

import gnupg

from onion_app.errors import HavenError

__all__ = ["UnusableKey", "check_key", "encrypt"]

# Far beyond any public key a person pastes; refused before gpg sees it.
MAX_KEY_CHARS = 64 * 1024
# Compression would make the size of the ciphertext follow the words inside;
# without it, a fixed-length plaintext gives a fixed-length message.
_ARGS = ["--compress-algo", "none", "--no-emit-version", "--no-comments"]
# All three short by chance: about one digest in two million, with RSA.
_TRIES = 3


# python-gnupg logs what gpg returns and the keys it imports at DEBUG. Haven's
# logs stay at WARNING, and this one stays there even if the root is raised.
logging.getLogger("gnupg").setLevel(logging.WARNING)


class UnusableKey(HavenError):
    """The text is not one OpenPGP public key that can be encrypted to."""


@contextlib.contextmanager
def _keyring(key_text: str) -> Iterator[tuple[gnupg.GPG, str]]:
    """A throwaway GnuPG home holding ``key_text`` alone.

    :returns: the GPG handle and the key's fingerprint
    :raises UnusableKey: unless the text holds exactly one public key
    """
    if not key_text.strip() or len(key_text) > MAX_KEY_CHARS:
        raise UnusableKey("not an OpenPGP public key")
    with tempfile.TemporaryDirectory(prefix="haven-gpg-") as home:
        try:
            gpg = gnupg.GPG(gnupghome=home)
        except (OSError, ValueError) as error:
            raise HavenError(f"GnuPG is not usable here ({error}); on Debian: "
                             "apt-get install gnupg") from None
        try:
            imported = gpg.import_keys(key_text)
            if int(imported.sec_read or 0):
                # A private key pasted by mistake is never kept, nor used.
                raise UnusableKey("this is a private key: paste the public key only")
            fingerprints = sorted(set(imported.fingerprints or []))
            if len(fingerprints) != 1 or len(gpg.list_keys()) != 1:
                raise UnusableKey("not exactly one OpenPGP public key")
            yield gpg, fingerprints[0]
        finally:
            # Public-key work starts no agent, but if a gpg ever does, it must
            # not outlive its folder.
            subprocess.run(["gpgconf", "--homedir", home, "--kill", "all"],  # noqa: S603,S607
                           capture_output=True, check=False)


def encrypt(key_text: str, plaintext: str) -> str:
    """Encrypt ``plaintext`` to the one key in ``key_text``.

    The size of the message depends on the plaintext's length only: nothing
    is compressed, and since an RSA (or ElGamal) session-key packet is a few
    bytes shorter when its number happens to start with a zero byte (about
    one time in 128), the longest of a few encryptions is kept: that is the
    full-size one, the same every day. (An elliptic-curve key always gives
    one size.)

    :returns: an ASCII-armored OpenPGP message
    :raises UnusableKey: if the key is not one public key that can encrypt
      (expired, revoked, signing-only)
    """
    with _keyring(key_text) as (gpg, fingerprint):
        candidates = []
        for _ in range(_TRIES):
            result = gpg.encrypt(plaintext, [fingerprint], always_trust=True, armor=True,
                                 extra_args=_ARGS)
            if not result.ok:
                raise UnusableKey("this key cannot be encrypted to (expired, revoked or "
                                  "signing only)")
            candidates.append(str(result))
        return max(candidates, key=len)


def check_key(key_text: str) -> tuple[str, str]:
    """Check that a pasted key is one public key Haven can encrypt to.

    :returns: its fingerprint (hexadecimal) and the public key as GnuPG
      exports it (what is kept: whatever else the pasted text held is not)
    :raises UnusableKey: otherwise
    """
    with _keyring(key_text) as (gpg, fingerprint):
        if not gpg.encrypt("check", [fingerprint], always_trust=True, extra_args=_ARGS).ok:
            raise UnusableKey("this key cannot be encrypted to (expired, revoked or "
                              "signing only)")
        exported = gpg.export_keys(fingerprint, armor=True, minimal=True)
        return fingerprint, str(exported)
