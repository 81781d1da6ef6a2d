"""OpenPGP through GnuPG: which keys are taken, what is kept, and that every
operation leaves nothing behind."""

from __future__ import annotations

import os
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from onion_app.domain import openpgp


def _gpg(home: Path, *args: str, data: str | None = None) -> str:
    # Bytes, decoded here: text mode would turn the CRLF lines into LF.
    return subprocess.run(["gpg", "--homedir", str(home), "--batch", *args],
                          input=None if data is None else data.encode(), check=True,
                          capture_output=True, env={**os.environ, "LC_ALL": "C"},
                          ).stdout.decode()


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A volunteer's GnuPG with one ed25519/cv25519 key (cheap to make), one
    signing-only key, and one that expired in 2020 (made on a faked clock)."""
    folder = tmp_path_factory.mktemp("gnupg")
    folder.chmod(0o700)
    for uid, algo, usage, expiry, *clock in (
            ("enc <a@example.org>", "future-default", "default", "never"),
            ("sign <s@example.org>", "ed25519", "sign", "never"),
            ("rsa <r@example.org>", "rsa2048", "sign,encr", "never"),
            ("old <o@example.org>", "future-default", "default", "1d",
             "--faked-system-time", "20200101T000000")):
        _gpg(folder, *clock, "--passphrase", "", "--quick-gen-key", uid, algo, usage, expiry)
    try:
        yield folder
    finally:
        subprocess.run(["gpgconf", "--homedir", str(folder), "--kill", "all"],
                       check=False, capture_output=True)


def test_a_public_key_is_checked_and_kept_in_gnupgs_own_form(home: Path) -> None:
    fingerprint, kept = openpgp.check_key(_gpg(home, "--armor", "--export", "a@example.org"))
    assert len(fingerprint) == 40
    assert kept.startswith("-----BEGIN PGP PUBLIC KEY BLOCK-----")
    assert fingerprint in _gpg(home, "--with-colons", "--fingerprint", "a@example.org")


@pytest.mark.parametrize(("which", "message"), [
    ("private", "private key"),
    ("two", "exactly one"),
    ("signing", "cannot be encrypted to"),
    ("expired", "cannot be encrypted to"),
    ("garbage", "exactly one"),
    ("empty", "not an OpenPGP public key"),
])
def test_unusable_keys_are_refused(home: Path, which: str, message: str) -> None:
    text = {
        "private": lambda: _gpg(home, "--armor", "--pinentry-mode", "loopback",
                                "--passphrase", "", "--export-secret-keys", "a@example.org"),
        "two": lambda: _gpg(home, "--armor", "--export", "a@example.org", "s@example.org"),
        "signing": lambda: _gpg(home, "--armor", "--export", "s@example.org"),
        "expired": lambda: _gpg(home, "--armor", "--export", "o@example.org"),
        "garbage": lambda: "-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nAAAA\n-----END PGP",
        "empty": lambda: "  \n",
    }[which]()
    with pytest.raises(openpgp.UnusableKey, match=message):
        openpgp.check_key(text)


# RSA's short packets come one time in 128: forty messages would likely show one.
@pytest.mark.parametrize(("who", "times"), [("a@example.org", 1), ("r@example.org", 20)])
def test_ciphertext_length_follows_the_plaintext_length_only(home: Path, who: str,
                                                            times: int) -> None:
    key = _gpg(home, "--armor", "--export", who)
    # Compressible and incompressible words of one length: the same size,
    # also for RSA, whose session-key packet is sometimes a few bytes shorter.
    sizes = {len(openpgp.encrypt(key, text))
             for text in ("0" * 64, "x7Qz!" * 12 + "abcd") * times}
    assert len(sizes) == 1
    key = _gpg(home, "--armor", "--export", "a@example.org")
    assert _gpg(home, "--decrypt", data=openpgp.encrypt(key, "hello\r\n")) == "hello\r\n"


def test_each_operation_leaves_no_keyring_behind(home: Path, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    private = tmp_path / "tmp"
    private.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(private))  # other tests use /tmp meanwhile
    openpgp.encrypt(_gpg(home, "--armor", "--export", "a@example.org"), "hello")
    assert list(private.iterdir()) == []
