"""What kind of file an upload is, decided by its content, never its name.

A name says what its sender wants it taken for; the bytes say what a reader's
software will parse. Only the kinds below are accepted, each recognised by
its signature (and, for office documents, by the entries of the zip inside),
and each has the extension under which the metadata remover is handed it.
Everything is read from memory; zip entries are listed, never extracted.
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass

__all__ = ["KINDS", "FileType", "sniff"]


@dataclass(frozen=True)
class FileType:
    """An accepted kind of file: its media type and the extension it is cleaned under."""

    media_type: str
    extension: str


PDF = FileType("application/pdf", "pdf")
JPEG = FileType("image/jpeg", "jpg")
PNG = FileType("image/png", "png")
WEBP = FileType("image/webp", "webp")
ODT = FileType("application/vnd.oasis.opendocument.text", "odt")
ODS = FileType("application/vnd.oasis.opendocument.spreadsheet", "ods")
DOCX = FileType("application/vnd.openxmlformats-officedocument.wordprocessingml.document", "docx")
XLSX = FileType("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx")
TEXT = FileType("text/plain", "txt")

#: Every accepted kind, for the form's description and the tests.
KINDS = (PDF, JPEG, PNG, WEBP, ODT, ODS, DOCX, XLSX, TEXT)

_OPEN_DOCUMENT = {ODT.media_type: ODT, ODS.media_type: ODS}
# Bytes that never occur in text a person wrote (tabs, line ends and form feeds do).
_CONTROL = bytes(sorted(set(range(0, 32)) - {9, 10, 12, 13}))


def sniff(data: bytes) -> FileType | None:
    """The kind of file ``data`` is, or None if Haven does not take it.

    :returns: one of :data:`KINDS`, or None
    """
    if data.startswith(b"%PDF-"):
        return PDF
    if data.startswith(b"\xff\xd8\xff"):
        return JPEG
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return WEBP
    if data.startswith(b"PK\x03\x04"):
        return _office(data)
    return TEXT if _is_text(data) else None


def _office(data: bytes) -> FileType | None:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())
            if "mimetype" in names:
                # OpenDocument names its kind in a small first entry, stored.
                info = archive.getinfo("mimetype")
                if info.file_size > 100:
                    return None
                return _OPEN_DOCUMENT.get(archive.read("mimetype").decode("ascii", "replace"))
    except (zipfile.BadZipFile, OSError, ValueError, NotImplementedError):
        return None
    if "[Content_Types].xml" not in names:
        return None
    if "word/document.xml" in names:
        return DOCX
    if "xl/workbook.xml" in names:
        return XLSX
    return None


def _is_text(data: bytes) -> bool:
    if not data:
        return False
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return len(data.translate(None, _CONTROL)) == len(data)
