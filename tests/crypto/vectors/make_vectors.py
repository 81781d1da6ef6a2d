"""Write the known-answer vectors in this folder. Run once, from the repository root:

    .venv/bin/python tests/crypto/vectors/make_vectors.py [FILE.json ...]

Inputs are fixed bytes expanded from labels with SHA-512, so re-running writes
the same files, except for the hybrid stanzas in ``hybrid.json``.
pyca/cryptography draws ML-KEM's encapsulation randomness itself, so each run
writes different (equally valid) stanza bytes; their test checks that they
open to the recorded content key, which pins the opening side. The tests then
check that the code still reproduces them; a test that rebuilds each format
from libsodium primitives by hand (following FORMAT.md) checks that the vectors
mean what the document says.
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[2]))

import nacl.bindings  # noqa: E402
from nacl.public import PrivateKey  # noqa: E402

from crypto.attachment import Attachment, seal_attachment  # noqa: E402
from crypto.envelope import ContentKey, seal  # noqa: E402
from crypto.hybrid import HybridPrivateKey, xwing_combine  # noqa: E402
from crypto.kdf import DEFAULT_KDF_PARAMS, TEST_KDF_PARAMS, KdfParams  # noqa: E402
from crypto.keytext import encode_public_key  # noqa: E402
from crypto.requester import derive_request_key, derive_requester_keys  # noqa: E402
from crypto.stanza import seal_content_key  # noqa: E402
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
                        "version": 1,
                        "private_key": bytes(keys.request_key(request_id, version=1)).hex(),
                        "public_key": bytes(
                            keys.request_key(request_id, version=1).public_key
                        ).hex(),
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


# draft-connolly-cfrg-xwing-kem-08, Appendix C, first vector: a published
# X-Wing decapsulation, which checks the combiner against other implementations.
XWING_DRAFT = {
    "source": "draft-connolly-cfrg-xwing-kem-08, Appendix C, vector 1",
    "sk": "7f9c2ba4e88f827d616045507605853ed73b8093f6efbc88eb1a6eacfa66ef26",
    "ct": (
        "b83aa828d4d62b9a83ceffe1d3d3bb1ef31264643c070c5798927e41fb07914a273f8f96e7826cd5375a283d"
        "7da885304c5de0516a0f0654243dc5b97f8bfeb831f68251219aabdd723bc6512041acbaef8af44265524942"
        "b902e68ffd23221cda70b1b55d776a92d1143ea3a0c475f63ee6890157c7116dae3f62bf72f60acd2bb8cc31"
        "ce2ba0de364f52b8ed38c79d719715963a5dd3842d8e8b43ab704e4759b5327bf027c63c8fa857c4908d5a8a"
        "7b88ac7f2be394d93c3706ddd4e698cc6ce370101f4d0213254238b4a2e8821b6e414a1cf20f6c1244b69904"
        "6f5a01caa0a1a55516300b40d2048c77cc73afba79afeea9d2c0118bdf2adb8870dc328c5516cc45b1a20581"
        "41039e2c90a110a9e16b318dfb53bd49a126d6b73f215787517b8917cc01cabd107d06859854ee8b4f9861c2"
        "26d3764c87339ab16c3667d2f49384e55456dd40414b70a6af841585f4c90c68725d57704ee8ee7ce6e2f9be"
        "582dbee985e038ffc346ebfb4e22158b6c84374a9ab4a44e1f91de5aac5197f89bc5e5442f51f9a5937b102b"
        "a3beaebf6e1c58380a4a5fedce4a4e5026f88f528f59ffd2db41752b3a3d90efabe463899b7d40870c530c88"
        "41e8712b733668ed033adbfafb2d49d37a44d4064e5863eb0af0a08d47b3cc888373bc05f7a33b841bc2587c"
        "57eb69554e8a3767b7506917b6b70498727f16eac1a36ec8d8cfaf751549f2277db277e8a55a9a5106b23a02"
        "06b4721fa9b3048552c5bd5b594d6e247f38c18c591aea7f56249c72ce7b117afcc3a8621582f9cf71787e18"
        "3dee09367976e98409ad9217a497df888042384d7707a6b78f5f7fb8409e3b535175373461b776002d799cba"
        "d62860be70573ecbe13b246e0da7e93a52168e0fb6a9756b895ef7f0147a0dc81bfa644b088a9228160c0f9a"
        "cf1379a2941cd28c06ebc80e44e17aa2f8177010afd78a97ce0868d1629ebb294c5151812c583daeb8868522"
        "0f4da9118112e07041fcc24d5564a99fdbde28869fe0722387d7a9a4d16e1cc8555917e09944aa5ebaaaec2c"
        "f62693afad42a3f518fce67d273cc6c9fb5472b380e8573ec7de06a3ba2fd5f931d725b493026cb0acbd3fe6"
        "2d00e4c790d965d7a03a3c0b4222ba8c2a9a16e2ac658f572ae0e746eafc4feba023576f08942278a041fb82"
        "a70a595d5bacbf297ce2029898a71e5c3b0d1c6228b485b1ade509b35fbca7eca97b2132e7cb6bc465375146"
        "b7dceac969308ac0c2ac89e7863eb8943015b24314cafb9c7c0e85fe543d56658c213632599efabfc1ec49dd"
        "8c88547bb2cc40c9d38cbd3099b4547840560531d0188cd1e9c23a0ebee0a03d5577d66b1d2bcb4baaf21cc7"
        "fef1e03806ca96299df0dfbc56e1b2b43e4fc20c37f834c4af62127e7dae86c3c25a2f696ac8b589dec71d59"
        "5bfbe94b5ed4bc07d800b330796fda89edb77be0294136139354eb8cd37591578f9c600dd9be8ec6219fdd50"
        "7adf3397ed4d68707b8d13b24ce4cd8fb22851bfe9d632407f31ed6f7cb1600de56f17576740ce2a32fc5145"
        "030145cfb97e63e0e41d354274a079d3e6fb2e15"
    ),
    "ss": "d2df0522128f09dd8e2c92b1e905c793d8f57a54c3da25861f10bf4ca613e384",
}


def hybrid_key(label: str) -> HybridPrivateKey:
    return HybridPrivateKey(PrivateKey(fixed(f"{label}/x25519", 32)), fixed(f"{label}/mlkem", 64))


def hybrid_vectors() -> dict[str, object]:
    combiner = []
    for i in range(3):
        parts = [fixed(f"combiner/{i}/{name}", 32) for name in ("ssm", "ssx", "ctx", "pkx")]
        combiner.append({
            "ss_mlkem": parts[0].hex(), "ss_x25519": parts[1].hex(),
            "ct_x25519": parts[2].hex(), "pk_x25519": parts[3].hex(),
            "combined": xwing_combine(*parts).hex(),
        })
    stanzas = []
    for i in range(2):
        key = hybrid_key(f"stanza/{i}")
        content_key = fixed(f"stanza/{i}/content key", 32)
        ephemeral = fixed(f"stanza/{i}/ephemeral", 32)
        stanza = seal_content_key(content_key, key.public_key, random=replay(ephemeral))
        stanzas.append({
            "x25519_private": bytes(key.x25519).hex(), "mlkem_seed": key.mlkem_seed.hex(),
            "mlkem_public": key.public_key.mlkem.hex(), "ephemeral": ephemeral.hex(),
            "content_key": content_key.hex(), "stanza": stanza.hex(),
        })
    requests = []
    for request_id in ("q8sUeW9-mZr1Y0_xk2HcLw", "x"):
        master = fixed(f"master/{request_id}", 32)
        key = derive_request_key(master, request_id, version=2)
        assert isinstance(key, HybridPrivateKey)
        requests.append({
            "master_secret": master.hex(), "request_id": request_id, "version": 2,
            "x25519_private": bytes(key.x25519).hex(), "mlkem_seed": key.mlkem_seed.hex(),
        })
    wrapped = []
    for passphrase, params in (("correct horse battery staple", TEST_KDF_PARAMS),):
        key = hybrid_key(f"volunteer/{passphrase}")
        stream = fixed(f"volunteer/{passphrase}/hybrid random", 16 + 24)
        blob = wrap_private_key(key, passphrase, params=params, random=replay(stream))
        wrapped.append({
            "passphrase": passphrase, "params": params_json(params),
            "x25519_private": bytes(key.x25519).hex(), "mlkem_seed": key.mlkem_seed.hex(),
            "random": stream.hex(), "wrapped": blob.hex(),
        })
    key = hybrid_key("keytext/hybrid").public_key
    keytext = [{"x25519": bytes(key.x25519).hex(), "mlkem": key.mlkem.hex(),
                "text": encode_public_key(key)}]
    # The ephemeral keys above are fixed; make sure no two stanzas share one.
    ephemerals = {nacl.bindings.crypto_scalarmult_base(bytes.fromhex(str(s["ephemeral"])))
                  for s in stanzas}
    assert len(ephemerals) == len(stanzas)
    return {"xwing_draft": [XWING_DRAFT], "combiner": combiner, "stanzas": stanzas,
            "requests": requests, "wrapped": wrapped, "keytext": keytext}


def attachment_vectors() -> list[dict[str, object]]:
    # The data is a pattern repeated to a length, so that a two-chunk file
    # needs no 140 KB of hex; the chunks are pinned by their BLAKE2b digests,
    # and the first chunk of the small ones in full.
    cases = [
        ("empty file", 0, "empty.txt", "text/plain", b"", 0, 0),
        ("a name in Persian", 1, "احضاریه.pdf", "application/pdf", b"%PDF-1.4 summons", 16, 2),
        ("fills 1 KiB", 2, "a.txt", "text/plain", fixed("fill", 64), 1024 - 40, 1),
        ("two chunks", 0, "photo.jpg", "image/jpeg", fixed("two", 64), 70_000, 0),
    ]
    vectors = []
    for name, index, file_name, media_type, pattern, length, note in cases:
        data = (pattern * (length // max(len(pattern), 1) + 1))[:length]
        content_key = fixed(f"{name}/content key", 32)
        ad = f"haven/attachment/message/{name}/{index}/v1".encode()
        random = fixed(f"{name}/random", 20)
        header, chunks = seal_attachment(ContentKey(content_key), index, ad,
                                         Attachment(note, file_name, media_type, data),
                                         random=replay(random))
        sealed = list(chunks)
        vectors.append({
            "name": name, "content_key": content_key.hex(), "index": index,
            "associated_data": ad.hex(), "note": note, "file_name": file_name,
            "media_type": media_type, "data_pattern": pattern.hex(), "data_length": length,
            "random": random.hex(), "header": header.hex(),
            "first_chunk": sealed[0].hex() if len(sealed[0]) <= 4096 else None,
            "chunks_blake2b": [hashlib.blake2b(c, digest_size=32).hexdigest() for c in sealed],
        })
    return vectors


def main() -> None:
    makers: dict[str, Callable[[], object]] = {
        "hybrid.json": hybrid_vectors,
        "envelope.json": envelope_vectors,
        "requester.json": requester_vectors,
        "volunteer.json": volunteer_vectors,
        "keytext.json": keytext_vectors,
        "attachment.json": attachment_vectors,
    }
    # Named files only, when given: hybrid.json changes at every run.
    wanted = sys.argv[1:] or list(makers)
    outputs = {name: makers[name]() for name in wanted}
    for name, vectors in outputs.items():
        (HERE / name).write_text(json.dumps(vectors, indent=1, ensure_ascii=False) + "\n")
        print(f"wrote {name}")


if __name__ == "__main__":
    main()
