"""Counts argon2id runs in a Haven subprocess (tests only).

Put this folder on PYTHONPATH and name a file in HAVEN_TEST_KDF_LOG: every
call of PyNaCl's argon2id appends one line (``kdf`` or ``str``, the function:
a key derivation or a passphrase verifier, then its memory cost) before it
runs. Nothing happens without the variable.
"""

from __future__ import annotations

import os
from typing import Any

_LOG = os.environ.get("HAVEN_TEST_KDF_LOG")

if _LOG:
    import nacl.pwhash.argon2id as argon2id

    _real_kdf = argon2id.kdf
    _real_str = argon2id.str

    def _note(kind: str, memlimit: int) -> None:
        with open(_LOG, "a", encoding="ascii") as handle:
            handle.write(f"{kind} {memlimit}\n")

    def _counted_kdf(size: int, password: bytes, salt: bytes, *args: Any, **kwargs: Any) -> bytes:
        _note("kdf", int(kwargs.get("memlimit", args[1] if len(args) > 1 else 0)))
        return _real_kdf(size, password, salt, *args, **kwargs)

    def _counted_str(password: bytes, *args: Any, **kwargs: Any) -> bytes:
        _note("str", int(kwargs.get("memlimit", args[1] if len(args) > 1 else 0)))
        return _real_str(password, *args, **kwargs)

    argon2id.kdf = _counted_kdf
    argon2id.str = _counted_str
