"""End to end over a private Tor network on loopback, through Haven's own run.py.

Three authorities, three relays, the onion-service tor Haven attaches to and
a client tor all run on 127.0.0.1 (tests/tor_network.py). A requester
reaches the public onion and submits a request through it; the staff onion
answers only once the client holds a staff key.
"""

from __future__ import annotations

import re
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from tor_network import PrivateNetwork, Uploads, register_client_key
from tor_socks import MISSING_CLIENT_AUTH, SocksError

from tests.haven_process import run_command, running_haven
from tests.onion_http import OnionBrowser
from tor_config.control import connect, parse_control_address

pytestmark = pytest.mark.tor
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
PRIVATE_KEY = re.compile(r"^Your private key:\s+([A-Z2-7]{52})$", re.M)
CODENAME = re.compile(r'name="shown" type="hidden" value="([^"]+)"')


@pytest.fixture
def short_dir() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="hav-e2e-", dir="/tmp"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.mark.xdist_group("tor_network")
def test_requester_and_staff_over_tor(short_dir: Path, tor_network: PrivateNetwork) -> None:
    net = tor_network
    started = time.monotonic()
    instance = short_dir / "instance"
    assert run_command(instance, "init").returncode == 0
    added = run_command(instance, "staff-key", "add", "laptop")
    found = PRIVATE_KEY.search(added.stdout)
    assert found, added.stdout + added.stderr
    staff_private_key = found.group(1)
    # A client that asks the HSDirs before Haven's descriptors reach them
    # gives up on them for a while; wait for the uploads first.
    uploads = Uploads()
    watcher = connect(net.service_control_socket)
    uploads.attach(watcher)
    since = uploads.mark()
    with running_haven(instance, timeout=120,
                       HAVEN_TOR_CONTROL=f"unix:{net.service_control_socket}") as haven:
        public, staff = haven.addresses["public"], haven.addresses["staff"]
        try:
            for address in (public, staff):
                uploads.wait_published(address.removesuffix(".onion"), since)
        finally:
            watcher.close()
        landing = net.get(public, "/").decode()
        assert "Safe help from people who care" in landing
        assert "Content-Security-Policy: default-src 'none'" in landing

        requester = OnionBrowser(net.client_socks_port, public)
        page = requester.get("/start").body
        codename = CODENAME.search(page)
        token = CSRF.search(page)
        assert codename
        assert token
        made = requester.post("/start", {"csrf_token": token.group(1),
                                         "shown": codename.group(1),
                                         "codename": codename.group(1)})
        assert made.status == 302, made.body
        form = requester.get("/requests/new").body
        token = CSRF.search(form)
        assert token
        sent = requester.post("/requests/new", {
            "csrf_token": token.group(1), "skills": ["legal"], "languages": ["fa"],
            "region": "unsaid", "urgency": "urgent", "title": "Over tor",
            "story": "Sent through a private Tor network.", "help": "", "website": ""})
        assert sent.status == 302, sent.body
        shown = requester.get(sent.headers["location"]).body
        assert "Sent through a private Tor network." in shown

        with pytest.raises(SocksError) as refused:
            net.get(staff, "/", give_up_on={MISSING_CLIENT_AUTH})
        assert refused.value.code == MISSING_CLIENT_AUTH
        client = connect(parse_control_address(f"127.0.0.1:{net.client_control_port}"))
        try:
            register_client_key(client, staff, staff_private_key)
        finally:
            client.close()
        staff_page = net.get(staff, "/").decode()
        assert "Haven for volunteers" in staff_page
    assert haven.process.returncode == 0
    print(f"\nprivate-network end-to-end: {time.monotonic() - started:.0f} s")
