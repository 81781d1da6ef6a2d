"""Every page of a Haven database file, decrypted: what a seizure with the key
yields, free pages and leftovers included, not only the rows a query returns.

SQLCipher 4's page format with its defaults (the ones Haven uses): 4,096-byte
pages, each ending in an 80-byte reserve (a 16-byte IV, then a 64-byte HMAC);
page 1 starts with the 16-byte file salt. A raw key (``x'…'``) is the AES-256
key itself. The HMAC is not checked: this reads, it does not authenticate.
AES-256-CBC comes from the system's OpenSSL (PyNaCl has no AES-CBC), through
ctypes.
"""

from __future__ import annotations

import ctypes
import ctypes.util
from pathlib import Path

from onion_app.store import Database

PAGE_SIZE = 4096
RESERVE = 80
IV_SIZE = 16
SALT_SIZE = 16
SQLITE_HEADER_REST = b"\x10\x00"  # page size 4096, big-endian, right after the salt's place

_lib = ctypes.CDLL(ctypes.util.find_library("crypto") or "libcrypto.so.3")
_lib.EVP_CIPHER_CTX_new.restype = ctypes.c_void_p
_lib.EVP_aes_256_cbc.restype = ctypes.c_void_p
_lib.EVP_DecryptInit_ex.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p,
                                    ctypes.c_char_p, ctypes.c_char_p]
_lib.EVP_CIPHER_CTX_set_padding.argtypes = [ctypes.c_void_p, ctypes.c_int]
_lib.EVP_DecryptUpdate.argtypes = [ctypes.c_void_p, ctypes.c_char_p,
                                   ctypes.POINTER(ctypes.c_int), ctypes.c_char_p, ctypes.c_int]
_lib.EVP_CIPHER_CTX_free.argtypes = [ctypes.c_void_p]


def _aes_256_cbc_decrypt(key: bytes, iv: bytes, data: bytes) -> bytes:
    ctx = _lib.EVP_CIPHER_CTX_new()
    try:
        assert _lib.EVP_DecryptInit_ex(ctx, _lib.EVP_aes_256_cbc(), None, key, iv) == 1
        _lib.EVP_CIPHER_CTX_set_padding(ctx, 0)
        out = ctypes.create_string_buffer(len(data) + 32)
        written = ctypes.c_int(0)
        assert _lib.EVP_DecryptUpdate(ctx, out, ctypes.byref(written), data, len(data)) == 1
        return out.raw[:written.value]
    finally:
        _lib.EVP_CIPHER_CTX_free(ctx)


def decrypt_page(key: bytes, page: bytes, first: bool) -> bytes:
    body_end = PAGE_SIZE - RESERVE
    iv = page[body_end:body_end + IV_SIZE]
    start = SALT_SIZE if first else 0
    return _aes_256_cbc_decrypt(key, iv, page[start:body_end])


def decrypted_pages(database: Database) -> bytes:
    """Every page of the main file, decrypted, after a full checkpoint of the
    write-ahead log (so the file holds everything committed).

    :raises AssertionError: if the first page does not decrypt to a SQLite header
    """
    with database.connect() as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    raw = Path(database.config.db_path).read_bytes()
    key = database.key.raw
    pages = [decrypt_page(key, raw[i:i + PAGE_SIZE], i == 0)
             for i in range(0, len(raw), PAGE_SIZE)]
    # The rest of SQLite's header follows the salt's place: proof the key and
    # the layout are right, so a test that finds nothing is not reading noise.
    assert pages[0].startswith(SQLITE_HEADER_REST), "the first page did not decrypt"
    every = b"".join(pages)
    assert b"CREATE TABLE" in every, "the schema did not decrypt"
    return every
