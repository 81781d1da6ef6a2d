"""Headers every response carries, whatever produced it.

Set as a WSGI wrapper rather than an ``after_request`` hook so that nothing a
Flask hook can miss (an error raised while finishing a response, a static
file) goes out without them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)

SECURITY_HEADERS: tuple[tuple[str, str], ...] = (
    ("Content-Security-Policy", CSP),
    ("Referrer-Policy", "no-referrer"),
    ("X-Content-Type-Options", "nosniff"),
    ("X-Frame-Options", "DENY"),
    ("Cross-Origin-Opener-Policy", "same-origin"),
    ("Cross-Origin-Resource-Policy", "same-origin"),
)

# Headers that would tell a visitor something about the server or when files
# were deployed; none is needed by a browser.
_DROPPED = frozenset({"server", "x-powered-by", "last-modified", "etag"})
_REPLACED = _DROPPED | {name.lower() for name, _ in SECURITY_HEADERS}

StartResponse = Callable[..., Any]
WSGIApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


class SecurityHeaders:
    """WSGI middleware adding Haven's security headers to every response."""

    def __init__(self, app: WSGIApp) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        def start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            kept = [(k, v) for k, v in headers if k.lower() not in _REPLACED]
            kept.extend(SECURITY_HEADERS)
            # A download (an attachment) also gets a sandbox, should any
            # browser ever render it in spite of its disposition.
            if any(k.lower() == "content-disposition" and v.startswith("attachment")
                   for k, v in kept):
                kept = [(k, f"{v}; sandbox" if k.lower() == "content-security-policy" else v)
                        for k, v in kept]
            content_type = next((v for k, v in kept if k.lower() == "content-type"), "")
            cached = any(k.lower() == "cache-control" for k, _ in kept)
            # Only the stylesheet may be cached; a page, an error or a QR code
            # left in a seized browser's cache would be evidence.
            if content_type.startswith("text/html") or not cached:
                kept = [(k, v) for k, v in kept if k.lower() != "cache-control"]
                kept.append(("Cache-Control", "no-store"))
            return start_response(status, kept, exc_info)

        return self.app(environ, start)
