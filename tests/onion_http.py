"""Just enough HTTP over tor's SOCKS port for a test to use Haven like a browser:
GET and POST, cookies kept, redirects not followed."""

from __future__ import annotations

import sys
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent / "tor_config"))

from tor_socks import connect


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: str


@dataclass
class OnionBrowser:
    socks_port: int
    host: str
    cookies: dict[str, str] = field(default_factory=dict)

    def get(self, path: str) -> Response:
        return self._send("GET", path, b"")

    def post(self, path: str, form: dict[str, str | list[str]]) -> Response:
        body = urllib.parse.urlencode(form, doseq=True).encode()
        return self._send("POST", path, body)

    def _send(self, method: str, path: str, body: bytes) -> Response:
        lines = [f"{method} {path} HTTP/1.0", f"Host: {self.host}"]
        if self.cookies:
            lines.append("Cookie: " + "; ".join(f"{k}={v}" for k, v in self.cookies.items()))
        if method == "POST":
            lines += ["Content-Type: application/x-www-form-urlencoded",
                      f"Content-Length: {len(body)}"]
        request = ("\r\n".join(lines) + "\r\n\r\n").encode() + body
        with connect(self.socks_port, self.host, 80, timeout=60) as sock:
            sock.sendall(request)
            raw = b""
            while chunk := sock.recv(65536):
                raw += chunk
        head, _, content = raw.partition(b"\r\n\r\n")
        status_line, *header_lines = head.decode("latin-1").split("\r\n")
        headers: dict[str, str] = {}
        for line in header_lines:
            name, _, value = line.partition(":")
            if name.lower() == "set-cookie":
                cookie = value.strip().split(";", 1)[0]
                key, _, cookie_value = cookie.partition("=")
                self.cookies[key] = cookie_value
            headers[name.lower()] = value.strip()
        return Response(int(status_line.split()[1]), headers, content.decode())
