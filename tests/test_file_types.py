"""Recognising an upload by its content: each accepted kind, and what is not."""

from __future__ import annotations

import io
import zipfile

import pytest

from onion_app.domain import file_types
from onion_app.domain.attachments import Upload, check, safe_name
from tests import attachment_files as files


def zipped(entries: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return out.getvalue()


ODT = zipped({"mimetype": file_types.ODT.media_type.encode(), "content.xml": b"<x/>"})
ODS = zipped({"mimetype": file_types.ODS.media_type.encode(), "content.xml": b"<x/>"})
XLSX = zipped({"[Content_Types].xml": b"<Types/>", "xl/workbook.xml": b"<w/>"})


@pytest.mark.parametrize(("data", "kind"), [
    (files.pdf(), file_types.PDF),
    (files.jpeg(), file_types.JPEG),
    (files.image("PNG"), file_types.PNG),
    (files.image("WEBP"), file_types.WEBP),
    (ODT, file_types.ODT),
    (ODS, file_types.ODS),
    (files.docx(), file_types.DOCX),
    (XLSX, file_types.XLSX),
    ("Нужна помощь юриста.\r\n\tСпасибо.\n".encode(), file_types.TEXT),  # noqa: RUF001
], ids=lambda value: getattr(value, "extension", ""))  # the data differ at each collection
def test_each_accepted_kind_is_recognised_by_its_bytes(data: bytes,
                                                       kind: file_types.FileType) -> None:
    assert file_types.sniff(data) == kind


@pytest.mark.parametrize("data", [
    b"",
    b"MZ\x90\x00" + bytes(100),                       # a Windows program
    b"\x7fELF\x02\x01\x01" + bytes(100),              # a Linux one
    b"<svg xmlns='http://www.w3.org/2000/svg'>\x00",  # markup with a NUL
    b"GIF89a" + bytes(20),
    b"text with an escape \x1b[31m",
    b"\xff\xfe n\x00o\x00t\x00 UTF-8",
    zipped({"a.txt": b"a plain zip"}),
    zipped({"mimetype": b"application/epub+zip"}),
    zipped({"[Content_Types].xml": b"<Types/>", "ppt/presentation.xml": b"<p/>"}),
    b"PK\x03\x04 truncated",
], ids=["empty", "exe", "elf", "svg", "gif", "escape", "utf-16", "zip", "epub", "pptx",
        "truncated zip"])
def test_anything_else_is_not_taken(data: bytes) -> None:
    assert file_types.sniff(data) is None


def test_the_name_does_not_decide() -> None:
    accepted, refused = check([Upload("photo.jpg", files.pdf()),
                               Upload("report.pdf", b"MZ\x90\x00" + bytes(100))], 3, 1 << 20)
    assert [a.kind for a in accepted] == [file_types.PDF]
    assert [(r.name, r.reason) for r in refused] == [("report.pdf", "type")]


def test_empty_inputs_are_ignored_and_limits_counted() -> None:
    text = b"a note\n"
    accepted, refused = check([Upload("", b""), *[Upload(f"{n}.txt", text) for n in range(4)],
                               Upload("big.txt", b"a" * 101)], 3, 100)
    assert len(accepted) == 3
    assert [(r.name, r.reason) for r in refused] == [("3.txt", "count"), ("big.txt", "size")]


@pytest.mark.parametrize(("name", "expected"), [
    ("summons.pdf", "summons.pdf"),
    ("../../etc/passwd.pdf", "passwd.pdf"),
    ("C:\\Users\\ayse\\scan.PDF", "scan.pdf"),
    ("payload.exe", "payload.pdf"),
    (".hidden", "hidden.pdf"),
    ("", "file.pdf"),
    ("bad\x00name\u202e.pdf", "badname.pdf"),
    ("احضاریه.pdf", "احضاریه.pdf"),
    ("x" * 300 + ".pdf", "x" * 196 + ".pdf"),  # 200 bytes in all
])
def test_names_are_made_safe_and_given_their_kinds_extension(name: str, expected: str) -> None:
    assert safe_name(name, file_types.PDF) == expected
