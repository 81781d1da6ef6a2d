"""/favicon.ico answers an empty icon on both apps, never an HTML page."""

from __future__ import annotations

import struct

import pytest
from flask import Flask


@pytest.mark.parametrize("role", ["public", "staff"])
def test_favicon_is_an_empty_icon(public_app: Flask, staff_app: Flask, role: str) -> None:
    app = public_app if role == "public" else staff_app
    response = app.test_client().get("/favicon.ico")
    assert response.status_code == 200
    assert response.mimetype == "image/x-icon"
    body = response.get_data()
    assert b"<html" not in body.lower()
    # An ICO header with one image, 1x1, whose data lies where the entry says.
    reserved, kind, count = struct.unpack("<HHH", body[:6])
    assert (reserved, kind, count) == (0, 1, 1)
    width, height, _c, _r, _p, bits, size, offset = struct.unpack("<BBBBHHII", body[6:22])
    assert (width, height, bits) == (1, 1, 32)
    assert offset + size == len(body)
    # The one pixel is fully transparent (alpha 0).
    assert body[offset + 40:offset + 44] == b"\x00\x00\x00\x00"
    assert response.headers["Content-Security-Policy"].startswith("default-src 'none'")
