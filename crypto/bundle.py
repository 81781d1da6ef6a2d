"""Bundles: envelopes as JSON, to carry between the staff site and the offline tool.

.. code-block:: json

    {"haven_bundle": 1,
     "kind": "request",
     "items": [{"ad": "<base64>", "body": "<base64>",
                "stanzas": {"<fingerprint>": "<base64>", "...": "..."},
                "files": [{"index": 0, "ad": "<base64>", "header": "<base64>",
                           "chunks": ["<base64>", "..."]}]}]}

A request is a bundle of one item; a thread is a bundle of several, oldest
first. ``kind`` is a label for people and the importing code; the
cryptographic binding of each item to its row is its ``ad``. Parsing is
strict: unknown or duplicate keys, non-canonical base64, and
malformed fingerprints are all refused, so one bundle has one meaning.
``files`` (an item's attachments, :mod:`crypto.attachment`) is present only
when the item has some.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass
from typing import Any

from crypto.envelope import Envelope
from crypto.errors import InvalidBundle

__all__ = [
    "BUNDLE_VERSION",
    "MAX_BUNDLE_SIZE",
    "Bundle",
    "BundleFile",
    "BundleItem",
    "dump_bundle",
    "load_bundle",
]

#: Value of ``haven_bundle`` this code reads and writes.
BUNDLE_VERSION = 1
#: Largest bundle text :func:`load_bundle` accepts, in bytes (512 MiB: a thread
#: with its attachments, base64-encoded).
MAX_BUNDLE_SIZE = 512 * 1024 * 1024

_KIND = re.compile(r"[a-z][a-z0-9_-]{0,31}")
_FINGERPRINT = re.compile(r"[0-9a-f]{32}")
_TOP_KEYS = frozenset({"haven_bundle", "kind", "items"})
_ITEM_KEYS = frozenset({"ad", "body", "stanzas"})
_ITEM_KEYS_WITH_FILES = _ITEM_KEYS | {"files"}
_FILE_KEYS = frozenset({"index", "ad", "header", "chunks"})


@dataclass(frozen=True)
class BundleFile:
    """One sealed attachment of an item: its index among the item's files, its
    associated data, its header and its chunks (:mod:`crypto.attachment`)."""

    index: int
    associated_data: bytes
    header: bytes
    chunks: tuple[bytes, ...]


@dataclass(frozen=True)
class BundleItem:
    """One envelope, the associated data it was sealed with, and its files."""

    associated_data: bytes
    envelope: Envelope
    files: tuple[BundleFile, ...] = ()


@dataclass(frozen=True)
class Bundle:
    """A labelled sequence of envelopes (one request, or a thread of messages).

    ``kind`` is 1 to 32 characters: a lower-case letter, then lower-case
    letters, digits, ``_`` or ``-``.
    """

    kind: str
    items: tuple[BundleItem, ...]


def dump_bundle(bundle: Bundle) -> str:
    """Return ``bundle`` as JSON text (ASCII, keys in a fixed order, ending in a newline).

    :raises InvalidBundle: if ``kind`` is malformed, there are no items, or an
        item has no stanza or a malformed fingerprint.
    """
    _check_kind(bundle.kind)
    if not bundle.items:
        raise InvalidBundle("a bundle needs at least one item")
    items = [_dump_item(item) for item in bundle.items]
    document = {"haven_bundle": BUNDLE_VERSION, "kind": bundle.kind, "items": items}
    return json.dumps(document, indent=1) + "\n"


def load_bundle(text: str | bytes) -> Bundle:
    """Parse bundle JSON text (``str``, or UTF-8 ``bytes``).

    The envelopes are not opened here; that needs a key.

    :raises InvalidBundle: if the text is not a well-formed version-1 bundle.
    """
    if len(text) > MAX_BUNDLE_SIZE:
        raise InvalidBundle(f"a bundle is at most {MAX_BUNDLE_SIZE} bytes")
    try:
        document = json.loads(text, object_pairs_hook=_no_duplicates)
    except InvalidBundle:
        raise
    except (ValueError, RecursionError):
        raise InvalidBundle("this is not JSON") from None
    top = _expect_object(document, _TOP_KEYS, "the bundle")
    version = top["haven_bundle"]
    if type(version) is not int or version != BUNDLE_VERSION:
        raise InvalidBundle(f"unknown bundle version; this code reads version {BUNDLE_VERSION}")
    kind = top["kind"]
    if not isinstance(kind, str):
        raise InvalidBundle("the bundle's kind must be a string")
    _check_kind(kind)
    items = top["items"]
    if not isinstance(items, list) or not items:
        raise InvalidBundle("the bundle's items must be a non-empty list")
    return Bundle(kind=kind, items=tuple(_load_item(item, n) for n, item in enumerate(items, 1)))


def _dump_item(item: BundleItem) -> dict[str, Any]:
    if not item.envelope.stanzas:
        raise InvalidBundle("every item needs at least one stanza")
    for fp in item.envelope.stanzas:
        _check_fingerprint(fp)
    dumped: dict[str, Any] = {
        "ad": _b64encode(item.associated_data),
        "body": _b64encode(item.envelope.body),
        "stanzas": {fp: _b64encode(s) for fp, s in sorted(item.envelope.stanzas.items())},
    }
    if item.files:
        dumped["files"] = [{"index": f.index, "ad": _b64encode(f.associated_data),
                            "header": _b64encode(f.header),
                            "chunks": [_b64encode(c) for c in f.chunks]} for f in item.files]
    return dumped


def _load_item(value: object, number: int) -> BundleItem:
    where = f"item {number}"
    with_files = isinstance(value, dict) and "files" in value
    item = _expect_object(value, _ITEM_KEYS_WITH_FILES if with_files else _ITEM_KEYS, where)
    stanzas = item["stanzas"]
    if not isinstance(stanzas, dict) or not stanzas:
        raise InvalidBundle(f"{where}: stanzas must be a non-empty object")
    decoded: dict[str, bytes] = {}
    for fp, stanza in stanzas.items():
        _check_fingerprint(fp)
        decoded[fp] = _b64decode(stanza, f"{where}: a stanza")
    envelope = Envelope(body=_b64decode(item["body"], f"{where}: body"), stanzas=decoded)
    files = _load_files(item["files"], where) if with_files else ()
    return BundleItem(associated_data=_b64decode(item["ad"], f"{where}: ad"), envelope=envelope,
                      files=files)


def _load_files(value: object, where: str) -> tuple[BundleFile, ...]:
    if not isinstance(value, list) or not value:
        raise InvalidBundle(f"{where}: files, when present, must be a non-empty list")
    found = []
    for number, entry in enumerate(value, 1):
        what = f"{where}, file {number}"
        file = _expect_object(entry, _FILE_KEYS, what)
        index, chunks = file["index"], file["chunks"]
        if type(index) is not int or not 0 <= index < 1 << 32:
            raise InvalidBundle(f"{what}: index must be an integer from 0 to 2**32-1")
        if not isinstance(chunks, list) or not chunks:
            raise InvalidBundle(f"{what}: chunks must be a non-empty list")
        found.append(BundleFile(index, _b64decode(file["ad"], f"{what}: ad"),
                                _b64decode(file["header"], f"{what}: header"),
                                tuple(_b64decode(c, f"{what}: a chunk") for c in chunks)))
    if len({f.index for f in found}) != len(found):
        raise InvalidBundle(f"{where}: two files share an index")
    return tuple(found)


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        raise InvalidBundle("a JSON object in the bundle repeats a key")
    return result


def _expect_object(value: object, keys: frozenset[str], where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise InvalidBundle(f"{where} must be a JSON object")
    if set(value) != keys:
        raise InvalidBundle(f"{where} must have exactly the keys {', '.join(sorted(keys))}")
    return value


def _check_kind(kind: str) -> None:
    if not _KIND.fullmatch(kind):
        raise InvalidBundle("a bundle's kind must be 1-32 lower-case letters, digits, _ or -")


def _check_fingerprint(fp: object) -> None:
    if not isinstance(fp, str) or not _FINGERPRINT.fullmatch(fp):
        raise InvalidBundle("a stanza must be keyed by a fingerprint of 32 lower-case hex digits")


def _b64encode(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def _b64decode(value: object, what: str) -> bytes:
    if not isinstance(value, str) or not value.isascii():
        raise InvalidBundle(f"{what} must be a base64 string")
    try:
        raw = base64.b64decode(value, validate=True)
    except binascii.Error:
        raise InvalidBundle(f"{what} is not valid base64") from None
    # Refuse the non-canonical spellings a decoder tolerates (stray padding bits).
    if _b64encode(raw) != value:
        raise InvalidBundle(f"{what} is not canonical base64")
    return raw
