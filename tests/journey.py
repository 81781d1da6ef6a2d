"""Steps of the requester's journey through the test client, shared by tests."""

from __future__ import annotations

import re
from typing import Any

from flask.testing import FlaskClient
from nacl.public import PrivateKey

from onion_app.store.connection import Connection
from onion_app.web.forms import REPLY_MAX

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
CODENAME = re.compile(r'name="shown" type="hidden" value="([^"]+)"')
REQUEST_URL = re.compile(r"^/requests/([A-Za-z0-9_-]{22})$")


def csrf(client: FlaskClient, url: str) -> str:
    page = client.get(url).get_data(as_text=True)
    found = CSRF.search(page)
    assert found, f"no CSRF token on {url}"
    return found.group(1)


def new_account(client: FlaskClient) -> str:
    """Makes an account the way a person does; returns the codename."""
    page = client.get("/start").get_data(as_text=True)
    codename = CODENAME.search(page)
    token = CSRF.search(page)
    assert codename
    assert token
    response = client.post("/start", data={
        "csrf_token": token.group(1), "shown": codename.group(1), "codename": codename.group(1),
    })
    assert response.status_code == 302, response.get_data(as_text=True)
    return codename.group(1)


def login(client: FlaskClient, codename: str) -> Any:
    return client.post("/login", data={"csrf_token": csrf(client, "/login"),
                                       "codename": codename})


def logout(client: FlaskClient) -> None:
    client.post("/logout", data={"csrf_token": csrf(client, "/requests")})


def request_fields(**changes: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "skills": ["legal", "press"], "languages": ["fa", "en"], "region": "mena",
        "urgency": "urgent", "title": "Need a lawyer", "story": "My story.",
        "help": "Advice on asylum.",
    }
    fields.update(changes)
    return fields


def submit(client: FlaskClient, **changes: Any) -> Any:
    data = request_fields(**changes)
    data["csrf_token"] = csrf(client, "/requests/new")
    return client.post("/requests/new", data=data)


def submitted_id(client: FlaskClient, **changes: Any) -> str:
    response = submit(client, **changes)
    assert response.status_code == 302, response.get_data(as_text=True)
    found = REQUEST_URL.match(response.location)
    assert found, response.location
    return found.group(1)


def reply(client: FlaskClient, public_id: str, text: str) -> Any:
    return client.post(f"/requests/{public_id}/reply", data={
        "csrf_token": csrf(client, f"/requests/{public_id}"), "text": text})


def add_volunteer(conn: Connection, handle: str, skills: list[str], languages: list[str],
                  status: str = "vetted", available: bool = True,
                  last_active_on: str = "2026-01-01") -> tuple[int, PrivateKey]:
    """A volunteer row as the staff side will make it (until that side exists)."""
    key = PrivateKey.generate()
    cursor = conn.execute(
        "INSERT INTO volunteers (public_id, handle, public_key, status, available, created_on,"
        " last_active_on) VALUES (?, ?, ?, ?, ?, '2026-01-01', ?)",
        (f"v-{handle}", handle, bytes(key.public_key), status, int(available), last_active_on),
    )
    volunteer_id = int(cursor.lastrowid)
    conn.executemany("INSERT INTO volunteer_skills VALUES (?, ?)",
                     [(volunteer_id, s) for s in skills])
    conn.executemany("INSERT INTO volunteer_languages VALUES (?, ?)",
                     [(volunteer_id, lang) for lang in languages])
    conn.commit()
    return volunteer_id, key


def dump_database(conn: Connection) -> str:
    """Every value of every table of the decrypted database, as text.

    Blobs are decoded byte for byte (latin-1), so a marker stored in one in
    clear would show up here too.
    """
    lines = []
    tables = [r[0] for r in conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
    for table in tables:
        for row in conn.execute(f'SELECT * FROM "{table}"'):  # noqa: S608  (names from the schema)
            values = [v.decode("latin-1") if isinstance(v, bytes) else str(v) for v in row]
            lines.append(f"{table}: " + " | ".join(f"'{v}'" for v in values))
    return "\n".join(lines)


# The heaviest text a form takes: a quote mark is "&#34;" once escaped, five
# bytes for each character typed.
HEAVY = '"'
# waitress's own threshold for moving an unsent response to a temporary file;
# Haven raises it (serving/buffers.py), but no thread page should come near it.
PAGE_WEIGHT_MAX = 1024 * 1024


def heaviest_thread(client: FlaskClient, public_id: str, replies: int) -> None:
    """``replies`` replies of the largest size, each starting ``reply NN``."""
    for n in range(replies):
        response = reply(client, public_id, f"reply {n:02d} " + HEAVY * (REPLY_MAX - 9))
        assert response.status_code == 302, response.status_code


def thread_pages(client: FlaskClient, url: str) -> list[str]:
    """Every page of a thread, from the first, each checked against the bound.

    :returns: the pages, as text
    """
    found = []
    for number in range(1, 100):
        page = client.get(f"{url}?page={number}").get_data(as_text=True)
        assert len(page.encode()) < PAGE_WEIGHT_MAX
        assert page.count('<article class="message') <= 10
        found.append(page)
        if "Later messages" not in page:
            break
    newest = client.get(url)  # no page asked for: the newest messages
    assert newest.status_code == 200
    shown = re.compile(r"Messages [\d,]+ to [\d,]+ of [\d,]+")
    assert shown.findall(found[-1]), "a long thread has pages"
    assert shown.findall(newest.get_data(as_text=True)) == shown.findall(found[-1])
    return found
