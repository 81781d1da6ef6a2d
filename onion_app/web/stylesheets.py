"""``/static/<file>``: Haven's stylesheets, read once at start-up and served
from memory without their comments, gzip-compressed to browsers that accept it.

Every byte crosses a slow Tor circuit, and the stylesheet is most of a first
visit's weight. Compressing it is safe: BREACH-style attacks need a secret and
something the visitor sent compressed into one response, and a stylesheet
holds neither (no token, no visitor input, the same bytes for everyone).
HTML pages are never compressed here: they carry CSRF tokens next to text a
visitor typed, which is exactly what such attacks read through.

A stylesheet edited on disk is served after a restart; the files ship in the
package and do not change while Haven runs.
"""

from __future__ import annotations

import datetime
import gzip
import mimetypes
import re
from dataclasses import dataclass
from pathlib import Path

from flask import Flask, Response, abort, request

from onion_app import resources

#: How long a browser may keep a stylesheet (the pages themselves: no-store).
MAX_AGE = 86400

# A comment that starts a line, up to its end: notes for whoever edits the
# file, a tenth of haven.css's bytes as sent, and nothing a browser uses. A
# "/*" inside a rule (in a string, say) does not start a line and stays.
_COMMENT_LINES = re.compile(rb"^/\*.*?\*/\n?", re.MULTILINE | re.DOTALL)


def without_comments(css: bytes) -> bytes:
    """``css`` without the comments that start a line."""
    return _COMMENT_LINES.sub(b"", css)


@dataclass(frozen=True)
class Stylesheet:
    """One static file's bytes as served (a stylesheet without its comment
    lines), and their gzip form when that is smaller."""

    name: str
    mimetype: str
    plain: bytes
    compressed: bytes | None

    @classmethod
    def read(cls, path: Path) -> Stylesheet:
        """Reads ``path`` and compresses it once.

        :returns: the file, with ``compressed`` set only when gzip saves bytes
        """
        kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        plain = path.read_bytes()
        if kind == "text/css":
            plain = without_comments(plain)
        # mtime=0: the gzip header would otherwise carry the time Haven started.
        compressed = gzip.compress(plain, compresslevel=9, mtime=0)
        return cls(path.name, kind, plain,
                   compressed if len(compressed) < len(plain) else None)

    def body_for(self, accepts_gzip: bool) -> tuple[bytes, bool]:
        """The bytes to send, and whether they are gzip-encoded."""
        if accepts_gzip and self.compressed is not None:
            return self.compressed, True
        return self.plain, False


def load(folder: Path) -> dict[str, Stylesheet]:
    """Every file directly in ``folder``, by name."""
    return {path.name: Stylesheet.read(path) for path in sorted(folder.iterdir())
            if path.is_file()}


def init_app(app: Flask, folder: Path | None = None) -> None:
    """Serves the static endpoint Flask registered from memory instead of disk.

    :param folder: where the files are; the package's static folder if not given
    """
    files = load(folder or resources.static_dir())

    def static(filename: str) -> Response:
        found = files.get(filename)
        if found is None:
            abort(404)
        # werkzeug reads q-values and "*": "gzip;q=0" and "identity" get plain bytes.
        body, encoded = found.body_for(request.accept_encodings["gzip"] > 0)
        response = Response(body, mimetype=found.mimetype)
        if encoded:
            response.headers["Content-Encoding"] = "gzip"
        # Both forms share one address: a cache must key on what was accepted.
        response.vary.add("Accept-Encoding")
        response.headers["Content-Disposition"] = f"inline; filename={found.name}"
        response.cache_control.public = True
        response.cache_control.max_age = MAX_AGE
        response.expires = (datetime.datetime.now(datetime.UTC)
                            + datetime.timedelta(seconds=MAX_AGE))
        # Ranges (of the bytes as sent), as Flask's own static route answered them.
        response.make_conditional(request, accept_ranges=True, complete_length=len(body))
        return response

    app.view_functions["static"] = static
