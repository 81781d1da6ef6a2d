"""The mark a view carries when it takes files, and the 415 gate that reads it."""

import json

import pytest
from flask import Flask

from onion_app.web.content_types import accepts_files, takes_files
from tests.journey import CSRF
from tests.test_security import check_headers


def test_a_marked_view_takes_files_and_an_unmarked_one_does_not() -> None:
    def plain() -> str:
        return "plain"

    @accepts_files
    def upload() -> str:
        return "upload"

    assert takes_files(upload)
    assert upload() == "upload"
    assert not takes_files(plain)
    assert not takes_files(None)


# The gate, through both real apps.


def _token(client: object, url: str) -> str:
    found = CSRF.search(client.get(url).get_data(as_text=True))  # type: ignore[attr-defined]
    assert found
    return found.group(1)


@pytest.mark.parametrize(("content_type", "body"), [
    ("application/json", json.dumps({"codename": 5})),
    ("application/json", "[" * 5000 + "]" * 5000),
    ("application/json", '{"codename": "\\ud800"}'),
    ("text/plain", "codename=a"),
    (None, "codename=a"),
    ("multipart/form-data; boundary=x", '--x\r\nContent-Disposition: form-data; name="codename"'
                                        '\r\n\r\na\r\n--x--\r\n'),
    ("application/x-www-form-urlencoded-not", "codename=a"),
])
def test_a_body_no_haven_form_sends_gets_a_415_page(public_app: Flask, content_type: str | None,
                                                    body: str) -> None:
    client = public_app.test_client()
    token = _token(client, "/login")
    headers = {"X-CSRFToken": token}
    if content_type is not None:
        headers["Content-Type"] = content_type
    response = client.post("/login", data=body.encode("utf-8", "surrogatepass"),
                           headers=headers)
    assert response.status_code == 415
    assert response.mimetype == "text/html"
    assert "Haven only accepts what its own forms send." in response.get_data(as_text=True)
    check_headers(response)


def test_a_plain_form_and_a_bodiless_post_pass_the_gate(public_app: Flask) -> None:
    client = public_app.test_client()
    token = _token(client, "/login")
    typed = client.post("/login", data={"csrf_token": token, "codename": "not a codename"})
    assert typed.status_code == 400  # the form's own answer, not the gate's
    assert client.post("/login").status_code == 400  # no token: the CSRF page


def test_multipart_passes_only_where_a_view_takes_files(staff_app: Flask) -> None:
    client = staff_app.test_client()
    body = b'--x\r\nContent-Disposition: form-data; name="a"\r\n\r\nb\r\n--x--\r\n'
    headers = {"Content-Type": "multipart/form-data; boundary=x"}
    assert client.post("/login", data=body, headers=headers).status_code == 415
    upload = client.post("/cases/" + "A" * 22 + "/upload", data=body, headers=headers)
    assert upload.status_code != 415


def test_an_unknown_address_keeps_its_404(public_app: Flask) -> None:
    response = public_app.test_client().post("/no/such/page", data=b"{}",
                                             headers={"Content-Type": "application/json"})
    assert response.status_code == 404
