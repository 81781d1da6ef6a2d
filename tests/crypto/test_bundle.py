from __future__ import annotations

import json
from typing import Any

import pytest
from nacl.public import PrivateKey

from crypto.bundle import MAX_BUNDLE_SIZE, Bundle, BundleItem, dump_bundle, load_bundle
from crypto.envelope import Envelope, open_for_reader, seal
from crypto.errors import InvalidBundle

READER = PrivateKey(bytes(range(32)))
OTHER = PrivateKey(bytes(range(32, 64)))
ITEMS = tuple(
    BundleItem(ad, seal(text, [READER.public_key, OTHER.public_key], ad))
    for ad, text in [
        (b"request:abc:1", b"the request"),
        (b"message:def:1", b"a reply"),
        (b"message:ghi:1", "и ответ".encode()),
    ]
)
THREAD = Bundle(kind="thread", items=ITEMS)


def _document() -> dict[str, Any]:
    document: dict[str, Any] = json.loads(dump_bundle(THREAD))
    return document


def test_round_trip_and_open() -> None:
    loaded = load_bundle(dump_bundle(THREAD))
    assert loaded == THREAD
    opened = [open_for_reader(i.envelope, READER, i.associated_data) for i in loaded.items]
    assert opened == [b"the request", b"a reply", "и ответ".encode()]


def test_bytes_are_accepted() -> None:
    assert load_bundle(dump_bundle(THREAD).encode()) == THREAD


def test_layout_is_the_documented_one() -> None:
    document = _document()
    assert list(document) == ["haven_bundle", "kind", "items"]
    assert document["haven_bundle"] == 1
    assert document["kind"] == "thread"
    assert list(document["items"][0]) == ["ad", "body", "stanzas"]
    assert document["items"][0]["ad"] == "cmVxdWVzdDphYmM6MQ=="


def test_dump_is_deterministic() -> None:
    assert dump_bundle(THREAD) == dump_bundle(load_bundle(dump_bundle(THREAD)))


def _mutated(change: Any) -> str:
    document = _document()
    change(document)
    return json.dumps(document)


@pytest.mark.parametrize(
    "change",
    [
        lambda d: d.update(haven_bundle=2),
        lambda d: d.update(haven_bundle="1"),
        lambda d: d.update(haven_bundle=True),
        lambda d: d.update(haven_bundle=1.0),
        lambda d: d.pop("kind"),
        lambda d: d.update(extra=1),
        lambda d: d.update(kind="Thread"),
        lambda d: d.update(kind=""),
        lambda d: d.update(kind="x" * 33),
        lambda d: d.update(kind=7),
        lambda d: d.update(items=[]),
        lambda d: d.update(items={}),
        lambda d: d["items"].append("item"),
        lambda d: d["items"][0].pop("ad"),
        lambda d: d["items"][0].update(id="abc"),
        lambda d: d["items"][0].update(ad="not base64!"),
        lambda d: d["items"][0].update(ad="cmVxdWVzdDphYmM6MQ="),
        lambda d: d["items"][0].update(ad="cmVxdWVzdDphYmM6MR=="),
        lambda d: d["items"][0].update(body=None),
        lambda d: d["items"][0].update(stanzas={}),
        lambda d: d["items"][0].update(stanzas=[]),
        lambda d: d["items"][0]["stanzas"].update({"ABCDEF" * 5 + "AB": "AA=="}),
        lambda d: d["items"][0]["stanzas"].update({"abc": "AA=="}),
        lambda d: d["items"][0]["stanzas"].update({"0" * 32: 5}),
    ],
    ids=[
        "version 2",
        "version string",
        "version bool",
        "version float",
        "no kind",
        "unknown key",
        "kind upper case",
        "kind empty",
        "kind too long",
        "kind number",
        "no items",
        "items object",
        "item string",
        "item without ad",
        "item unknown key",
        "ad not base64",
        "ad missing padding",
        "ad non-canonical",
        "body null",
        "no stanzas",
        "stanzas list",
        "fingerprint upper case",
        "fingerprint short",
        "stanza number",
    ],
)
def test_malformed_bundles_are_refused(change: Any) -> None:
    with pytest.raises(InvalidBundle):
        load_bundle(_mutated(change))


@pytest.mark.parametrize(
    "text",
    ["", "not json", "[]", "1", "null", '{"haven_bundle": 1', "[" * 100_000, b"\xff\xfe\x00"],
)
def test_non_bundles_are_refused(text: str | bytes) -> None:
    with pytest.raises(InvalidBundle):
        load_bundle(text)


def test_duplicate_keys_are_refused() -> None:
    text = dump_bundle(THREAD).replace('"kind": "thread"', '"kind": "thread", "kind": "other"')
    with pytest.raises(InvalidBundle, match="repeats a key"):
        load_bundle(text)


def test_oversized_text_is_refused_before_parsing() -> None:
    with pytest.raises(InvalidBundle, match="at most"):
        load_bundle(" " * (MAX_BUNDLE_SIZE + 1))


def test_dump_refuses_what_load_would_refuse() -> None:
    with pytest.raises(InvalidBundle):
        dump_bundle(Bundle(kind="Bad Kind", items=ITEMS))
    with pytest.raises(InvalidBundle):
        dump_bundle(Bundle(kind="thread", items=()))
    no_stanza = BundleItem(b"", Envelope(body=ITEMS[0].envelope.body, stanzas={}))
    with pytest.raises(InvalidBundle):
        dump_bundle(Bundle(kind="thread", items=(no_stanza,)))
    bad_fp = BundleItem(b"", Envelope(body=b"", stanzas={"nope": b""}))
    with pytest.raises(InvalidBundle):
        dump_bundle(Bundle(kind="thread", items=(bad_fp,)))


def test_invalid_bundle_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="not JSON"):
        load_bundle("{")
