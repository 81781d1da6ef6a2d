"""Benchmark crypto/: envelope seal and open (v1 and hybrid stanzas side by
side), and the two password-hard derivations.

Run from the repository root: ``.venv/bin/python bench/crypto_bench.py``.
Each figure is the median of several timed batches, so one slow batch (another
process waking up) does not move it much.
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

# Runnable from a checkout that was never pip-installed.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from nacl.public import PrivateKey

from crypto.envelope import fingerprint, open_envelope, seal
from crypto.hybrid import ReaderPrivateKey, gain_mlkem
from crypto.kdf import DEFAULT_KDF_PARAMS
from crypto.requester import derive_requester_keys, new_install_salt
from crypto.volunteer import unwrap_private_key, wrap_private_key

READER_COUNTS = (1, 10, 50)
# Plaintexts that exactly fill the 1 KiB and 64 KiB buckets (4 bytes go to the length).
SIZES = {"1 KiB": 1024 - 4, "64 KiB": 65536 - 4}
AD = b"message:benchmark:1"


def per_call(work: Callable[[], object], budget: float = 0.4, batches: int = 5) -> float:
    """Return the median seconds per call of ``work``."""
    calls = 1
    while True:
        start = time.perf_counter()
        for _ in range(calls):
            work()
        elapsed = time.perf_counter() - start
        if elapsed >= budget / batches:
            break
        calls *= 2
    samples = [elapsed / calls]
    for _ in range(batches - 1):
        start = time.perf_counter()
        for _ in range(calls):
            work()
        samples.append((time.perf_counter() - start) / calls)
    return statistics.median(samples)


def bench_envelopes() -> None:
    """Seal to every reader and open as one, v1 (X25519) beside hybrid
    (X25519 + ML-KEM-768) for the same plaintext and reader count."""
    columns = ("size", "readers", "stanza", "seal ms", "open ms", "seal x", "open x",
               "B/reader")
    widths = (7, 7, 7, 9, 9, 7, 7, 9)
    print(" ".join(f"{c:>{w}}" for c, w in zip(columns, widths, strict=True)))
    for label, size in SIZES.items():
        plaintext = bytes(size)
        for count in READER_COUNTS:
            x25519 = [PrivateKey.generate() for _ in range(count)]
            kinds: dict[str, list[ReaderPrivateKey]] = {
                "v1": list(x25519), "hybrid": [gain_mlkem(k) for k in x25519]}
            baseline: tuple[float, float] | None = None
            for kind, keys in kinds.items():
                readers = [k.public_key for k in keys]
                envelope = seal(plaintext, readers, AD)
                stanza = envelope.stanzas[fingerprint(x25519[0].public_key)]
                sealing = per_call(partial(seal, plaintext, readers, AD))
                opening = per_call(partial(open_envelope, envelope.body, stanza, keys[0], AD))
                baseline = baseline or (sealing, opening)
                # Stored per reader: the stanza and its share of the one body.
                stored = len(stanza) + len(envelope.body) / count
                print(
                    f"{label:>7} {count:>7} {kind:>7} {sealing * 1e3:>9.3f} "
                    f"{opening * 1e3:>9.3f} {sealing / baseline[0]:>7.2f} "
                    f"{opening / baseline[1]:>7.2f} {stored:>9.0f}"
                )


def bench_derivations() -> None:
    params = DEFAULT_KDF_PARAMS
    print(
        f"\nargon2id at the defaults: opslimit={params.opslimit}, "
        f"memlimit={params.memlimit // (1 << 20)} MiB"
    )
    salt = new_install_salt()
    codename = "abacus zoom t-shirt yo-yo quiver vanilla shrug"
    derive = per_call(lambda: derive_requester_keys(codename, salt, params=params), budget=3)
    print(f"requester derivation: {derive * 1e3:.0f} ms")
    wrapped = wrap_private_key(PrivateKey.generate(), "a passphrase", params=params)
    unwrap = per_call(lambda: unwrap_private_key(wrapped, "a passphrase"), budget=3)
    print(f"volunteer unwrap:     {unwrap * 1e3:.0f} ms")


def main() -> None:
    print("Envelope seal (all readers) and open (one reader), median per envelope;")
    print("x: hybrid time over v1 time; B/reader: stanza plus the body's share per reader")
    bench_envelopes()
    bench_derivations()


if __name__ == "__main__":
    main()
