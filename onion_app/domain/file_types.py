"""What kind of file an upload is, decided by its content, never its name.

A name says what its sender wants it taken for; the bytes say what a reader's
software will parse. Only the kinds below are accepted, each recognised by
its signature (and, for office documents, by the entries of the zip inside),
and each has the extension under which the metadata remover is handed it.
Everything is read from memory, by signature: nothing here parses the file.
"""

from __future__ import annotations

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
    # Signatures only: the zip is never opened here (hostile files are parsed
    # in the sandbox alone, DESIGN.md), and mat2 refuses one that lies.
    # OpenDocument stores an uncompressed "mimetype" entry first, naming its kind.
    name_length = int.from_bytes(data[26:28], "little")
    extra_length = int.from_bytes(data[28:30], "little")
    if data[30:30 + name_length] == b"mimetype":
        start = 30 + name_length + extra_length
        for kind in (ODT, ODS):
            media_type = kind.media_type.encode()
            end = start + len(media_type)
            # Exactly the media type, then the next entry's header.
            if data[start:end] == media_type and data[end:end + 2] == b"PK":
                return kind
        return None
    # Office Open XML names its parts in clear in the zip's headers.
    if b"[Content_Types].xml" not in data:
        return None
    if b"word/document.xml" in data:
        return DOCX
    if b"xl/workbook.xml" in data:
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
