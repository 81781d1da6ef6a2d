"""Files that carry identifying metadata, made in memory for the attachment tests.

The JPEG is drawn by Pillow and given camera and GPS tags by exiftool; the
PDF and the DOCX are written by hand, byte for byte, so nothing here depends
on what an office suite would add. ``metadata`` reads any file back with
exiftool through a pipe: nothing touches the disk.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import zipfile

from PIL import Image

SECRETS = {
    "jpeg": ("Haven Test Camera", "HX-9000", "SN-4815162342"),
    "pdf": ("Ayse Example", "Secret Writer 7.1"),
    "docx": ("Ayşe Example", "Mehmet Reviewer"),
}


def exiftool(data: bytes, *args: str) -> bytes:
    """Runs exiftool over ``data`` on stdin; returns its stdout."""
    done = subprocess.run(["exiftool", *args, "-"], input=data,
                          capture_output=True, check=True)
    return done.stdout


def metadata(data: bytes) -> dict[str, object]:
    """Every tag exiftool finds in ``data``, by name."""
    found = json.loads(exiftool(data, "-j", "-a", "-G1"))
    return dict(found[0])


def jpeg(width: int = 64, height: int = 48, *, noise: bool = False, quality: int = 90) -> bytes:
    """A JPEG with a camera make, model and serial number and a GPS position."""
    picture = Image.new("RGB", (width, height), (200, 120, 40))
    if noise:
        # Noise does not compress: a 10 MiB file needs few pixels this way.
        picture = Image.frombytes("RGB", (width, height),
                                  os.urandom(width * height * 3))
    out = io.BytesIO()
    picture.save(out, "JPEG", quality=quality)
    make, model, serial = SECRETS["jpeg"]
    return exiftool(out.getvalue(), "-o", "-", f"-Make={make}", f"-Model={model}",
                    f"-SerialNumber={serial}", "-GPSLatitude=41.0082", "-GPSLatitudeRef=N",
                    "-GPSLongitude=28.9784", "-GPSLongitudeRef=E")


def image(kind: str) -> bytes:
    """A PNG or WebP (``kind`` as Pillow names it) with a camera make and model."""
    out = io.BytesIO()
    Image.new("RGB", (32, 24), (10, 120, 200)).save(out, kind)
    make, model, _ = SECRETS["jpeg"]
    return exiftool(out.getvalue(), "-o", "-", f"-Make={make}", f"-Model={model}")


def pdf(padding: int = 0) -> bytes:
    """A one-page PDF whose information dictionary names an author and a tool.

    ``padding`` bytes of an unused stream make it as large as a bench needs.
    """
    author, tool = SECRETS["pdf"]
    content = b"BT /F1 24 Tf 72 700 Td (A summons) Tj ET"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R"
        b" /Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        f"<< /Author ({author}) /Creator ({tool}) /Producer ({tool})"
        f" /CreationDate (D:20240102030405Z) >>".encode("latin-1"),
        b"<< /Length %d >>\nstream\n" % padding + os.urandom(padding)
        + b"\nendstream",
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += (b"trailer\n<< /Size %d /Root 1 0 R /Info 6 0 R >>\nstartxref\n%d\n%%%%EOF\n"
            % (len(objects) + 1, xref))
    return bytes(out)


def docx() -> bytes:
    """A DOCX with an author, a last editor, a revision count and a tracked
    change (an insertion and a deletion by a named reviewer)."""
    author, reviewer = SECRETS["docx"]
    w = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'
    parts = {
        "[Content_Types].xml": (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
            'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/word/document.xml" ContentType="application/vnd.'
            'openxmlformats-officedocument.wordprocessingml.document.main+xml"/>'
            '<Override PartName="/docProps/core.xml" ContentType="application/vnd.'
            'openxmlformats-package.core-properties+xml"/></Types>'),
        "_rels/.rels": (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/'
            'relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/'
            'officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/>'
            '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/package/2006/'
            'relationships/metadata/core-properties" Target="docProps/core.xml"/>'
            '</Relationships>'),
        "word/document.xml": (
            f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:document {w}>'
            '<w:body><w:p><w:r><w:t>The contract says </w:t></w:r>'
            f'<w:ins w:id="1" w:author="{reviewer}" w:date="2024-01-02T03:04:05Z"><w:r>'
            '<w:t>ninety</w:t></w:r></w:ins>'
            f'<w:del w:id="2" w:author="{reviewer}" w:date="2024-01-02T03:04:05Z"><w:r>'
            '<w:delText>thirty</w:delText></w:r></w:del><w:r><w:t> days.</w:t></w:r></w:p>'
            '</w:body></w:document>'),
        "docProps/core.xml": (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            '<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/'
            'metadata/core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/" '
            'xmlns:dcterms="http://purl.org/dc/terms/" '
            'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
            f'<dc:creator>{author}</dc:creator><cp:lastModifiedBy>{reviewer}'
            '</cp:lastModifiedBy><cp:revision>7</cp:revision>'
            '<dcterms:created xsi:type="dcterms:W3CDTF">2024-01-02T03:04:05Z</dcterms:created>'
            '</cp:coreProperties>'),
    }
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in parts.items():
            archive.writestr(name, text.encode())
    return out.getvalue()
