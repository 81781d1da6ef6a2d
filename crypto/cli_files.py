"""The offline tool's attachments: opened from a bundle, written to a folder.

Names come from strangers, so each is reduced to one safe file name (no
folder parts, no control characters, no leading dot) and written only as a new
file (mode 0600, never over another), numbered when two names meet.
"""

from __future__ import annotations

import os
import unicodedata
from pathlib import Path

from crypto.attachment import Attachment, open_attachment
from crypto.bundle import BundleItem
from crypto.envelope import open_content_key
from crypto.hybrid import ReaderPrivateKey

__all__ = ["Numbered", "open_files", "safe_file_name", "write_files"]

#: A file and the number of the bundle item it came with.
Numbered = tuple[int, Attachment]

_NOTES = {1: "original, as sent: it may identify its sender",
          2: "sent as it was: hidden data not removed"}


def open_files(item: BundleItem, stanza: bytes,
               private_key: ReaderPrivateKey) -> list[Attachment]:
    """Every attachment of ``item``, opened with the reader's stanza.

    :raises DecryptionError: if the item's body or any file does not open
    """
    if not item.files:
        return []
    key = open_content_key(item.envelope.body, stanza, private_key, item.associated_data)
    return [open_attachment(key, f.index, f.associated_data, f.header, f.chunks)
            for f in item.files]


def safe_file_name(name: str) -> str:
    """``name`` as one harmless file name in the current folder."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    base = "".join(c for c in unicodedata.normalize("NFC", base)
                   if unicodedata.category(c)[0] != "C").strip().lstrip(".")
    return base[:200] or "file"


def write_files(folder: Path, files: list[Numbered]) -> list[str]:
    """Writes each (item number, file) into ``folder``, made mode 0700 if absent.

    :returns: a line per file for the person: where it went and what it is
    """
    folder.mkdir(mode=0o700, exist_ok=True)
    lines = []
    for number, attachment in files:
        name = safe_file_name(attachment.name)
        path = folder / name
        for attempt in range(2, 1000):
            try:
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                break
            except FileExistsError:
                path = folder / f"{attempt}-{name}"
        else:
            raise FileExistsError(f"{folder} holds too many files named {name}")
        with os.fdopen(fd, "wb") as stream:
            stream.write(attachment.data)
        note = _NOTES.get(attachment.note, "")
        lines.append(f"item {number}: {path}" + (f" ({note})" if note else ""))
    return lines
