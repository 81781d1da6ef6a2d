"""Haven's cryptography: codenames, derived and wrapped keys, the multi-reader envelope.

Boundary: a pure library over PyNaCl and the standard library, plus
pyca/cryptography for ML-KEM-768 alone (in :mod:`crypto.hybrid`). It never imports
flask, the database, ``onion_app`` or ``tor_config``, so a volunteer can run it
alone on their own machine (``python -m crypto``).

One module per idea; FORMAT.md gives every byte layout and what each
construction does and does not protect against.

- :mod:`crypto.codename` — seven-word codenames and their normalisation.
- :mod:`crypto.kdf` — argon2id parameters (:class:`~crypto.kdf.KdfParams`).
- :mod:`crypto.requester` — a requester's lookup id and keys (one pair per request), derived
  from the codename.
- :mod:`crypto.volunteer` — a volunteer's private key wrapped under a passphrase; the verifier.
- :mod:`crypto.hybrid` — hybrid X25519 + ML-KEM-768 keys and the X-Wing combiner.
- :mod:`crypto.stanza` — one reader's copy of a content key: X25519 (v1) or hybrid (v2).
- :mod:`crypto.envelope` — seal once to many readers, open, add a reader.
- :mod:`crypto.bundle` — envelopes as JSON for the offline tool.
- :mod:`crypto.keytext` — public keys and wrapped keys as pasteable text.
- :mod:`crypto.errors` — the exceptions raised.
- :mod:`crypto.cli` — the offline tool behind ``python -m crypto``.
"""
