"""``/favicon.ico`` on both apps: an empty icon, not an HTML 404.

Browsers ask for it on every visit; without it each visit cost a 2 KB error
page. The icon is a valid 1x1 fully transparent ICO, built here rather than
shipped as a binary file, and cached by the browser for a day.
"""

from __future__ import annotations

import struct

from flask import Flask, Response

#: The endpoint, open to visitors without a session.
ENDPOINT = "favicon"


def _empty_icon() -> bytes:
    # ICONDIR, one ICONDIRENTRY, then a 32-bit BMP body: BITMAPINFOHEADER
    # (height doubled for the AND mask), one transparent pixel, one mask row.
    header = struct.pack("<HHH", 0, 1, 1)
    bitmap = (struct.pack("<IiiHHIIiiII", 40, 1, 2, 1, 32, 0, 8, 0, 0, 0, 0)
              + b"\x00\x00\x00\x00" + b"\x00\x00\x00\x00")
    entry = struct.pack("<BBBBHHII", 1, 1, 0, 0, 1, 32, len(bitmap), 6 + 16)
    return header + entry + bitmap


ICON = _empty_icon()


def register(app: Flask) -> None:
    """Adds ``/favicon.ico`` to ``app``."""
    app.add_url_rule("/favicon.ico", ENDPOINT, _favicon)


def _favicon() -> Response:
    response = Response(ICON, mimetype="image/x-icon")
    response.headers["Cache-Control"] = "public, max-age=86400"
    return response
