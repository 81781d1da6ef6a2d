"""The stylesheets as a browser gets them: over real HTTP from Haven's own
server, gzip-compressed when asked for, the file's own bytes otherwise."""

from __future__ import annotations

import gzip
import http.client
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser as Chromium

from onion_app import resources
from onion_app.config import Config
from onion_app.web import stylesheets
from tests.browser import fresh_contexts, haven_server

SOURCE = (resources.static_dir() / "haven.css").read_bytes()
CSS = stylesheets.without_comments(SOURCE)  # as served


@pytest.fixture
def public_url(initialised: Config) -> Iterator[str]:
    with haven_server(initialised) as urls:
        yield urls["public"]


def _fetch(base: str, path: str, method: str = "GET",
           headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    """One request on its own connection, nothing added: http.client sends no
    Accept-Encoding unless told to."""
    where = urlsplit(base)
    conn = http.client.HTTPConnection(where.hostname or "", where.port, timeout=30)
    try:
        conn.request(method, path, headers=headers or {})
        response = conn.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        conn.close()


@pytest.mark.parametrize("accept", ["gzip, deflate, br", "gzip", "*", "deflate, gzip;q=0.5"])
def test_a_browser_that_accepts_gzip_gets_it(public_url: str, accept: str) -> None:
    status, headers, body = _fetch(public_url, "/static/haven.css",
                                   headers={"Accept-Encoding": accept})
    assert status == 200
    assert headers["content-encoding"] == "gzip"
    assert int(headers["content-length"]) == len(body) < len(CSS) // 2
    assert gzip.decompress(body) == CSS
    assert "accept-encoding" in headers["vary"].lower()


@pytest.mark.parametrize("accept", [None, "identity", "gzip;q=0", "*;q=0", "deflate, br",
                                    "*;q=0.5, gzip;q=0"])
def test_anyone_else_gets_the_plain_file(public_url: str, accept: str | None) -> None:
    status, headers, body = _fetch(public_url, "/static/haven.css",
                                   headers={} if accept is None else {"Accept-Encoding": accept})
    assert status == 200
    assert "content-encoding" not in headers
    assert body == CSS
    assert int(headers["content-length"]) == len(CSS)
    assert "accept-encoding" in headers["vary"].lower()


@pytest.mark.parametrize("accept", [None, "gzip"])
def test_both_forms_keep_the_headers_flasks_static_route_sent(public_url: str,
                                                              accept: str | None) -> None:
    _status, headers, _body = _fetch(public_url, "/static/haven.css",
                                     headers={} if accept is None else {"Accept-Encoding": accept})
    assert headers["content-type"] == "text/css; charset=utf-8"
    assert headers["cache-control"] == "public, max-age=86400"
    assert "expires" in headers
    assert headers["content-disposition"] == "inline; filename=haven.css"
    assert headers["accept-ranges"] == "bytes"
    assert headers["x-content-type-options"] == "nosniff"
    assert "default-src 'none'" in headers["content-security-policy"]
    # Nothing that dates the deployment: no file times, no tags.
    assert "last-modified" not in headers
    assert "etag" not in headers


@pytest.mark.parametrize(("accept", "length"), [(None, len(CSS)),
                                                ("gzip", len(gzip.compress(CSS, 9, mtime=0)))])
def test_head_answers_with_the_headers_and_no_body(public_url: str, accept: str | None,
                                                   length: int) -> None:
    status, headers, body = _fetch(public_url, "/static/haven.css", "HEAD",
                                   headers={} if accept is None else {"Accept-Encoding": accept})
    assert status == 200
    assert body == b""
    assert int(headers["content-length"]) == length
    assert ("content-encoding" in headers) == (accept == "gzip")


def test_a_tiny_file_is_sent_plain_even_to_gzip(public_url: str) -> None:
    """Compression would make noscript.css larger: it goes as it is."""
    noscript = (resources.static_dir() / "noscript.css").read_bytes()
    _status, headers, body = _fetch(public_url, "/static/noscript.css",
                                    headers={"Accept-Encoding": "gzip"})
    assert body == noscript
    assert "content-encoding" not in headers


@pytest.mark.parametrize("path", ["/static/none.css", "/static/../config.py",
                                  "/static/%2e%2e/web/factory.py", "/static/"])
def test_anything_else_under_static_is_havens_not_found_page(public_url: str, path: str) -> None:
    status, headers, body = _fetch(public_url, path, headers={"Accept-Encoding": "gzip"})
    assert status == 404
    assert headers["content-type"].startswith("text/html")
    assert "content-encoding" not in headers  # pages are never compressed
    assert b"Haven" in body


def test_what_is_served_is_the_file_without_its_comment_lines() -> None:
    assert b"/*" in SOURCE
    assert b"/*" not in CSS
    # Every line of rules is there, in its order.
    rules = [line for line in SOURCE.splitlines() if b"{" in line and not line.startswith(b"/*")]
    assert [line for line in CSS.splitlines() if b"{" in line] == rules
    # A comment inside a rule (in a string, say) is not touched.
    kept = b'a::before{content:"/* not a comment */"}\n'
    assert stylesheets.without_comments(b"/* a\nnote */\n" + kept) == kept


def test_the_gzip_form_dates_nothing(tmp_path: Path) -> None:
    """gzip's header has a modification time; ours is zero, not the start-up time."""
    (tmp_path / "a.css").write_bytes(b"body{color:red}" * 40)
    sheet = stylesheets.load(tmp_path)["a.css"]
    assert sheet.compressed is not None
    assert sheet.compressed[4:8] == b"\x00\x00\x00\x00"
    assert gzip.decompress(sheet.compressed) == sheet.plain


def test_chromium_takes_the_gzip_form_and_styles_the_page(public_url: str,
                                                          chromium_process: Chromium) -> None:
    with fresh_contexts(chromium_process) as contexts:
        page = contexts.page()
        with page.expect_response("**/static/haven.css") as sheet:
            page.goto(public_url + "/")
        assert sheet.value.status == 200
        assert sheet.value.all_headers()["content-encoding"] == "gzip"
        assert sheet.value.body() == CSS  # as chromium decoded it
        # --paper, from the stylesheet: the page is styled.
        assert page.evaluate("getComputedStyle(document.body).backgroundColor") \
            == "rgb(253, 252, 249)"


def test_a_range_is_of_the_bytes_as_sent(public_url: str) -> None:
    """A resumed download asks for the rest of what it was getting."""
    sent = gzip.compress(CSS, 9, mtime=0)
    status, headers, body = _fetch(public_url, "/static/haven.css",
                                   headers={"Accept-Encoding": "gzip", "Range": "bytes=100-"})
    assert status == 206
    assert headers["content-range"] == f"bytes 100-{len(sent) - 1}/{len(sent)}"
    assert body == sent[100:]
