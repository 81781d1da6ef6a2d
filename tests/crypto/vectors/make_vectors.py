"""Write the known-answer vectors in this folder. Run once, from the repository root:

    .venv/bin/python tests/crypto/vectors/make_vectors.py

Inputs are fixed bytes expanded from labels with SHA-512, so re-running writes
the same files. The tests then check that the code still reproduces them; a
test that rebuilds each format from libsodium primitives by hand (following
FORMAT.md) checks that the vectors mean what the document says.
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[2]))

from nacl.public import PrivateKey  # noqa: E402

from crypto.envelope import seal  # noqa: E402
from crypto.kdf import DEFAULT_KDF_PARAMS, TEST_KDF_PARAMS, KdfParams  # noqa: E402
from crypto.keytext import encode_public_key  # noqa: E402
from crypto.requester import REQUEST_KEY_VERSION, derive_requester_keys  # noqa: E402
from crypto.volunteer import wrap_private_key  # noqa: E402


def fixed(label: str, size: int) -> bytes:
    out = b""
    counter = 0
    while len(out) < size:
        out += hashlib.sha512(f"{label}/{counter}".encode()).digest()
        counter += 1
    return out[:size]


def replay(stream: bytes) -> Callable[[int], bytes]:
    position = 0

    def take(size: int) -> bytes:
        nonlocal position
        chunk = stream[position : position + size]
        position += size
        return chunk

    return take


def params_json(params: KdfParams) -> dict[str, int]:
    return {"opslimit": params.opslimit, "memlimit": params.memlimit}


def envelope_vectors() -> list[dict[str, object]]:
    cases = [
        ("empty", b"", 1),
        ("one byte", b"\x00", 1),
        ("short text", "Привет, мир".encode(), 2),
        ("fills 1 KiB", bytes(range(256)) * 4, 3),  # 1024 bytes: spills into 2 KiB
        ("1 KiB edge", fixed("edge", 1020), 1),
    ]
    vectors = []
    for name, plaintext, n_readers in cases:
        readers = [PrivateKey(fixed(f"{name}/reader/{i}", 32)) for i in range(n_readers)]
        ad = f"message:{name}:1".encode()
        stream = fixed(f"{name}/random", 32 + 24 + 32 * n_readers)
        envelope = seal(plaintext, [r.public_key for r in readers], ad, random=replay(stream))
        vectors.append(
            {
                "name": name,
                "plaintext": plaintext.hex(),
                "associated_data": ad.hex(),
                "reader_private_keys": [bytes(r).hex() for r in readers],
                "random": stream.hex(),
                "body": envelope.body.hex(),
                "stanzas": {fp: s.hex() for fp, s in envelope.stanzas.items()},
            }
        )
    return vectors


def requester_vectors() -> list[dict[str, object]]:
    # The first two differ only in spelling, so they must give the same keys.
    cases = [
        ("abacus zoom t-shirt yo-yo quiver vanilla shrug", "one", TEST_KDF_PARAMS),
        ("  Abacus ZOOM tshirt yo yo quiver-vanilla\tshrug\n", "one", TEST_KDF_PARAMS),
        ("dwelling felt-tip ocean drop-down ruby tattoo wafer", "two", KdfParams(2, 64 * 1024)),
        ("abacus zoom t-shirt yo-yo quiver vanilla shrug", "one", DEFAULT_KDF_PARAMS),
    ]
    vectors = []
    for codename, salt_label, params in cases:
        salt = fixed(f"install salt/{salt_label}", 16)
        keys = derive_requester_keys(codename, salt, params=params)
        vectors.append(
            {
                "codename": codename,
                "install_salt": salt.hex(),
                "params": params_json(params),
                "lookup_id": keys.lookup_id.hex(),
                "public_key": bytes(keys.public_key).hex(),
                "master_secret": keys.master_secret.hex(),
                "requests": [
                    {
                        "request_id": request_id,
                        "version": REQUEST_KEY_VERSION,
                        "private_key": bytes(keys.request_key(request_id)).hex(),
                        "public_key": bytes(keys.request_key(request_id).public_key).hex(),
                    }
                    # Shaped like Haven's public ids (22 characters), plus the
                    # shortest and longest ids the derivation takes.
                    for request_id in ("q8sUeW9-mZr1Y0_xk2HcLw", "Ab3", "x", "_-" * 32)
                ],
            }
        )
    return vectors


def volunteer_vectors() -> list[dict[str, object]]:
    cases = [
        ("correct horse battery staple", TEST_KDF_PARAMS),
        ("pässwörd with ünïcode", KdfParams(2, 64 * 1024)),
    ]
    vectors = []
    for passphrase, params in cases:
        private_key = PrivateKey(fixed(f"volunteer/{passphrase}", 32))
        stream = fixed(f"volunteer/{passphrase}/random", 16 + 24)
        wrapped = wrap_private_key(private_key, passphrase, params=params, random=replay(stream))
        vectors.append(
            {
                "passphrase": passphrase,
                "params": params_json(params),
                "private_key": bytes(private_key).hex(),
                "random": stream.hex(),
                "wrapped": wrapped.hex(),
            }
        )
    return vectors


def keytext_vectors() -> list[dict[str, str]]:
    keys = [PrivateKey(fixed(f"keytext/{i}", 32)).public_key for i in range(3)]
    return [{"public_key": bytes(k).hex(), "text": encode_public_key(k)} for k in keys]


def main() -> None:
    outputs = {
        "envelope.json": envelope_vectors(),
        "requester.json": requester_vectors(),
        "volunteer.json": volunteer_vectors(),
        "keytext.json": keytext_vectors(),
    }
    for name, vectors in outputs.items():
        (HERE / name).write_text(json.dumps(vectors, indent=1, ensure_ascii=False) + "\n")
        print(f"wrote {name}: {len(vectors)} vectors")


if __name__ == "__main__":
    main()
