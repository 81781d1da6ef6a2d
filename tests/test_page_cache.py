"""The anonymous-page cache: per language, never a token, a session or a message."""

from __future__ import annotations

import re

from flask import Flask

from onion_app.web.page_cache import page_cache_of

TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def _token(page: str) -> str:
    found = TOKEN.search(page)
    assert found is not None
    return found.group(1)


def _kept_pages(app: Flask) -> list[str]:
    return [page for _, page in page_cache_of(app)._pages.values()]


def test_the_landing_page_is_kept_per_language(public_app: Flask) -> None:
    english = public_app.test_client().get("/")
    assert english.status_code == 200
    assert len(page_cache_of(public_app)) == 1
    persian_client = public_app.test_client()
    persian_client.set_cookie("haven_public_language", "fa")
    persian = persian_client.get("/").get_data(as_text=True)
    assert '<html lang="fa"' in persian
    assert len(page_cache_of(public_app)) == 2
    again = public_app.test_client().get("/")
    assert again.get_data() == english.get_data()
    assert '<html lang="fa"' not in again.get_data(as_text=True)


def test_each_visitor_gets_their_own_working_token(public_app: Flask) -> None:
    first, second = public_app.test_client(), public_app.test_client()
    first_token = _token(first.get("/login").get_data(as_text=True))
    second_token = _token(second.get("/login").get_data(as_text=True))  # from the cache
    assert first_token != second_token
    for page in _kept_pages(public_app):
        assert first_token not in page
        assert second_token not in page
    # The token works for its own visitor (the form is checked: a codename
    # error) and not for the other (refused before the form is read).
    own = second.post("/login", data={"csrf_token": second_token, "codename": "not one"})
    assert "not a valid codename" in own.get_data(as_text=True)
    other = first.post("/login", data={"csrf_token": second_token, "codename": "not one"})
    assert "not a valid codename" not in other.get_data(as_text=True)


def test_a_visitor_with_a_message_gets_a_page_of_their_own(public_app: Flask) -> None:
    public_app.test_client().get("/")  # the cache is warm
    told = public_app.test_client()
    with told.session_transaction() as cookie:
        cookie["_flashes"] = [("ok", "A message for this visitor only")]
    assert "A message for this visitor only" in told.get("/").get_data(as_text=True)
    assert "A message for this visitor only" not in (
        public_app.test_client().get("/").get_data(as_text=True))
    assert all("A message for this visitor only" not in page
               for page in _kept_pages(public_app))


def test_a_signed_in_session_is_never_served_from_the_cache(public_app: Flask) -> None:
    public_app.test_client().get("/login")
    visitor = public_app.test_client()
    with visitor.session_transaction() as cookie:
        cookie["sid"] = "a session id the store does not know"
    visitor.get("/login")
    assert len(page_cache_of(public_app)) == 1
    assert all("a session id" not in page for page in _kept_pages(public_app))


def test_a_query_string_is_not_kept(public_app: Flask) -> None:
    assert public_app.test_client().get("/?utm=1").status_code == 200
    assert len(page_cache_of(public_app)) == 0


def test_the_staff_sign_in_page_is_kept(staff_app: Flask) -> None:
    first = staff_app.test_client().get("/login").get_data(as_text=True)
    second = staff_app.test_client().get("/login").get_data(as_text=True)
    assert len(page_cache_of(staff_app)) == 1
    assert first.replace(_token(first), "") == second.replace(_token(second), "")


def test_a_kept_page_expires(public_app: Flask) -> None:
    cache = page_cache_of(public_app)
    public_app.test_client().get("/")
    key = next(iter(cache._pages))
    cache.ttl = 0.0
    assert cache.get(key) is None


def test_a_kept_page_has_the_headers_of_a_rendered_one(public_app: Flask) -> None:
    rendered = public_app.test_client().get("/login")
    kept = public_app.test_client().get("/login")
    assert len(page_cache_of(public_app)) == 1

    def headers(response: object) -> dict[str, str]:
        return {k: v for k, v in response.headers.items()  # type: ignore[attr-defined]
                if k not in ("Set-Cookie", "Content-Length")}

    assert headers(kept) == headers(rendered)
    assert "Set-Cookie" in kept.headers  # the visitor's own session, holding their token
