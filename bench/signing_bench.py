"""What signing costs a first visit's sign-in page and a signed-in request.

In one process, interleaved round by round, each piece is timed twice: with
itsdangerous's stock serializers, as Haven used them before
``onion_app/web/signing.py`` (one serializer per app, a signer made and its
key derived for every value, HMAC in pure Python), and with Haven's prepared
ones. Printed: the median per call over the rounds, and the ratio.

- the first-visit front's mint (``FirstVisit.mint``): a CSRF secret, its
  signed token and the signed session cookie, for each app;
- a whole cookieless ``GET /login`` through the app's WSGI entry (the front
  answers it from the page cache, security headers included);
- reading a signed-in requester's session cookie (``open_session``, every
  signed-in request) and writing one (``save_session`` of a changed
  session: signing in, a flashed message; timed with the app context a
  request has around it).

    .venv/bin/python bench/signing_bench.py [--rounds 9] [--calls 2000]

Run by hand (about half a minute), not in ``make bench``: the HTTP figures
of these pages are ``http_bench.py``'s.
"""

from __future__ import annotations

import argparse
import copy
import statistics
import sys
import timeit
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import havenbench as hb


def _stock_serializers(app: Any) -> tuple[Any, Any]:
    """The session's and the CSRF token's serializers as Flask and Flask-WTF build them."""
    from flask.sessions import SecureCookieSessionInterface
    from itsdangerous import URLSafeTimedSerializer

    session = SecureCookieSessionInterface().get_signing_serializer(app)
    csrf = URLSafeTimedSerializer(app.config.get("WTF_CSRF_SECRET_KEY") or app.secret_key,
                                  salt="wtf-csrf-token")
    return session, csrf


def _pairs(app: Any, role: str, signed_in: Any) -> list[tuple[str, Callable[[], object],
                                                          Callable[[], object]]]:
    """(name, the stock way, Haven's way) for each piece of ``app``'s work."""
    from flask.sessions import SecureCookieSessionInterface
    from werkzeug.test import EnvironBuilder

    from onion_app.web.page_cache import page_cache_of
    from onion_app.web.security import SecurityHeaders

    # The front answers only while the page is kept; a bench's rounds outlast
    # the cache's seconds, and a miss would time Flask's rendering instead.
    page_cache_of(app).ttl = float("inf")
    hb.ok(app.test_client().get("/login"), "/login")
    front = app.wsgi_app.app
    stock_session, stock_csrf = _stock_serializers(app)
    stock_front = copy.copy(front)
    stock_front.signer, stock_front.csrf = stock_session, stock_csrf
    stock_wsgi = SecurityHeaders(stock_front)
    environ = EnvironBuilder(path="/login", method="GET").get_environ()

    def get(wsgi: Any) -> Callable[[], object]:
        return lambda: b"".join(wsgi(dict(environ), lambda *_: None))

    pairs = [(f"{role} front's mint", stock_front.mint, front.mint),
             (f"{role} cookieless GET /login (WSGI)", get(stock_wsgi), get(app.wsgi_app))]
    if signed_in is None:
        return pairs

    class StockOnce(SecureCookieSessionInterface):
        """Haven's session interface before: one stock serializer per app."""

        def get_signing_serializer(self, _app: Any) -> Any:
            return stock_session

    stock, haven = StockOnce(), app.session_interface
    cookie = hb.session_cookie(signed_in, app)
    request = app.request_class(EnvironBuilder(path="/requests",
                                               headers=[("Cookie", cookie)]).get_environ())
    opened = haven.open_session(app, request)
    if opened is None or "sid" not in opened:
        raise SystemExit("the signed-in cookie did not open")
    assert dict(stock.open_session(app, request) or {}) == dict(opened)

    def save(interface: Any) -> Callable[[], object]:
        def run() -> object:
            session = interface.session_class(opened)
            session.modified = True
            with app.app_context():  # as in a request: Flask's JSON provider
                interface.save_session(app, session, app.response_class())
            return session

        return run

    pairs += [(f"{role} signed-in open_session", lambda: stock.open_session(app, request),
               lambda: haven.open_session(app, request)),
              (f"{role} changed session's save_session", save(stock), save(haven))]
    return pairs


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--calls", type=int, default=2000)
    args = parser.parse_args()

    from onion_app import create_app
    from onion_app.web.state import Runtime

    with hb.instance() as config:
        runtime = Runtime.for_config(config)
        apps = {role: create_app(role, config, runtime) for role in ("public", "staff")}
        with runtime.database.connect() as conn:
            requester_id, keys = hb.add_requester(conn)
            conn.commit()
        client = hb.signed_in(apps["public"], "requester", requester_id, requester_keys=keys,
                              account_ref=bytes(keys.public_key).hex())
        hb.ok(client.get("/requests"), "/requests")  # its cookie now holds a CSRF secret too
        pairs = (_pairs(apps["public"], "public", client)
                 + _pairs(apps["staff"], "staff", None))
        times: dict[str, tuple[list[float], list[float]]] = {n: ([], []) for n, *_ in pairs}
        baseline = []
        for _ in range(args.rounds):
            baseline.append(hb.bare_page_ms(50) * 1000)
            for name, stock, haven in pairs:
                for way, slot in ((stock, 0), (haven, 1)):
                    way()
                    times[name][slot].append(
                        timeit.timeit(way, number=args.calls) / args.calls * 1e6)
        print(f"{hb.machine()}; {hb.load()}")
        print(f"median of {args.rounds} rounds of {args.calls} calls; same-run baseline: a bare "
              f"Flask page through its test client, {statistics.median(baseline):.0f} µs")
        print(f"{'':<44} {'stock µs':>9} {'Haven µs':>9} {'ratio':>6}")
        for name, (stock_times, haven_times) in times.items():
            before, after = statistics.median(stock_times), statistics.median(haven_times)
            print(f"{name:<44} {before:9.1f} {after:9.1f} {after / before:6.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
