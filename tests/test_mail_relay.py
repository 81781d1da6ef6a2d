"""Which road the digest mail takes to the relay: through tor by default.

The relay is a real SMTP server on loopback (tests/smtp_inbox.py). Two
roads are shown with real parts:

- Haven's own tor, launched by :class:`OnionServices` exactly as the server
  launches it, opens ``instance/tor/socks.sock`` once a relay is set. It has
  no way out (its only bridge is a closed loopback port), so it takes the
  SOCKS connection and refuses to carry it to a private address: the mail
  does not arrive, the refusal is tor's, and tor's log says so. The same
  digest with ``HAVEN_SMTP_DIRECT=1`` arrives, so the relay was reachable.
- With no tor at all, nothing falls back to a direct connection.

What tor would do with a reachable relay on the Internet cannot run here (no
network); a SOCKS test double (``tests/socks_double.py``) stands
in for it in ``test_mail_reaches_the_relay_through_a_socks_listener``, and
records that the hostname reached it unresolved.
"""

from __future__ import annotations

import datetime
import shutil
import socket
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
import tor_socks
from tor_network import NOT_YET, PrivateNetwork, Uploads

from onion_app.config import Config
from onion_app.domain import digests, staff_keys
from onion_app.domain.mail_relay import listener_for
from onion_app.serving.onions import OnionServices
from onion_app.store import Database
from onion_app.store import notifications as store
from tests.conftest import make_config
from tests.journey import add_volunteer
from tests.smtp_inbox import PASSWORD, USER, Inbox, smtp_inbox
from tests.socks_double import socks_double
from tor_config.control import connect
from tor_config.onion import ServiceSpec, add_service
from tor_config.process import socks_socket

ADDRESS = "someone@example.net"
NOW = datetime.datetime.combine(datetime.date.today(), datetime.time(12))


@pytest.fixture
def instance() -> Iterator[Path]:
    # A short path: unix socket paths must fit in 107 bytes.
    folder = Path(tempfile.mkdtemp(prefix="hav-", dir="/tmp"))
    yield folder / "instance"
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def inbox(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Inbox]:
    with smtp_inbox(tmp_path, names=("localhost",)) as running:
        monkeypatch.setenv("SSL_CERT_FILE", str(running.cert_file))
        yield running


def haven(instance: Path, inbox: Inbox, host: str = "127.0.0.1", port: int | None = None,
          **environ: str) -> Config:
    """An initialised Haven with one volunteer subscribed to the daily digest."""
    url = (f"smtp://{quote(USER, safe='')}:{quote(PASSWORD, safe='')}"
           f"@{host}:{port or inbox.port}")
    config = make_config(instance, HAVEN_SMTP_URL=url, HAVEN_NOTIFY_HOUR="0", **environ)
    database = Database(config)
    database.init()
    with database.connect() as conn:
        volunteer_id, _key = add_volunteer(conn, "lawyer", ["legal"], ["fa"])
        store.subscribe(conn, volunteer_id, address=ADDRESS, choice="daily", pgp_key=None,
                        pgp_fingerprint=None, counted_through="2026-01-01")
        conn.commit()
    return config


def reset_attempt(config: Config) -> None:
    with Database(config).connect() as conn:
        conn.execute("UPDATE volunteer_notifications SET attempted_on = NULL")
        conn.commit()


@pytest.mark.tor
def test_mail_goes_through_havens_own_tor_by_default(instance: Path, inbox: Inbox) -> None:
    config = haven(instance, inbox, HAVEN_TOR_OPTIONS="UseBridges 1; Bridge 127.0.0.1:1")
    database = Database(config)
    with database.connect() as conn:
        staff_keys.add_device(conn, "first-device")
    services = OnionServices(database, lambda _line: None)
    services.start()
    try:
        listener = socks_socket(instance / "tor")
        assert listener_for(config) == str(listener)
        for _ in range(100):  # tor opens its listeners right after its control socket
            if listener.exists():
                break
            time.sleep(0.1)
        outcome = digests.send_due(database, config, NOW)
    finally:
        services.stop()
    assert outcome.failures == [
        "through tor: tor refused the connection: general failure (SOCKS reply 0x01)"]
    assert inbox.messages == []
    log = (instance / "tor" / "tor.log").read_text()
    assert "Rejecting SOCKS request for anonymous connection to private address" in log

    reset_attempt(config)
    direct = config.with_changes(smtp_direct=True)
    assert digests.send_due(database, direct, NOW).sent == 1
    assert len(inbox.messages) == 1


def test_without_tor_nothing_goes_direct(instance: Path, inbox: Inbox) -> None:
    config = haven(instance, inbox)
    outcome = digests.send_due(Database(config), config, NOW)
    (reason,) = outcome.failures
    assert reason.startswith("through tor: cannot reach tor's SOCKS listener")
    assert inbox.messages == []


def test_mail_reaches_the_relay_through_a_socks_listener(instance: Path, inbox: Inbox) -> None:
    socket_path = instance.parent / "socks.sock"
    with socks_double(socket_path) as double:
        config = haven(instance, inbox, host="localhost",
                       HAVEN_SMTP_SOCKS=f"unix:{socket_path}")
        assert digests.send_due(Database(config), config, NOW).sent == 1
    assert double.requests == [(0x03, "localhost", inbox.port)]  # a name, not an address
    (message,) = inbox.messages
    assert message.recipients == (ADDRESS,)


def test_an_attached_tor_means_the_system_tors_socks_port(tmp_path: Path) -> None:
    config = make_config(tmp_path, HAVEN_SMTP_URL="smtp://a%40b.org:p@relay.example.org",
                         HAVEN_TOR_CONTROL="unix:/run/tor/control")
    assert listener_for(config) == ("127.0.0.1", 9050)
    assert listener_for(config.with_changes(smtp_direct=True)) is None


def _wait_reachable(net: PrivateNetwork, address: str, port: int) -> None:
    """Until the client tor reaches the onion service (its descriptor may
    still be on its way to the HSDirs the client asks)."""
    deadline = time.monotonic() + 120
    while True:
        try:
            tor_socks.connect(net.client_socks_port, address, port, timeout=30).close()
            return
        except tor_socks.SocksError as refused:
            if refused.code not in NOT_YET or time.monotonic() > deadline:
                raise AssertionError(f"{address}: {refused}\n{net.log_tails()}") from refused
        time.sleep(0.5)


@pytest.mark.tor
@pytest.mark.xdist_group("tor_network")
# The reachability probe's session through tor can still be open on the
# test relay's side (aiosmtpd) when the relay stops; its transport is then
# collected unclosed. That is the test relay's socket, not Haven's.
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_mail_reaches_a_relay_over_tor(instance: Path, tmp_path: Path,
                                       tor_network: PrivateNetwork,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """The whole road with real tors: the digest goes into a client tor's SOCKS
    port and comes out at a relay published as an onion service (as some mail
    providers offer), on the private loopback network."""
    net = tor_network
    uploads = Uploads()
    with connect(net.service_control_socket) as service_tor:
        uploads.attach(service_tor)
        since = uploads.mark()
        probe = socket.socket()
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
        probe.close()
        relay = add_service(service_tor, ServiceSpec("relay", f"127.0.0.1:{port}",
                                                     virtual_port=587))
        uploads.wait_published(relay.service_id, since)
    with smtp_inbox(tmp_path, names=(relay.address,), port=port) as inbox:
        monkeypatch.setenv("SSL_CERT_FILE", str(inbox.cert_file))
        config = haven(instance, inbox, host=relay.address, port=587,
                       HAVEN_SMTP_SOCKS=f"127.0.0.1:{net.client_socks_port}")
        _wait_reachable(net, relay.address, 587)
        outcome = digests.send_due(Database(config), config, NOW)
        assert (outcome.sent, outcome.failures) == (1, [])
        (message,) = inbox.messages
        assert message.recipients == (ADDRESS,)
        assert b"Subject: Daily note\r\n" in message.data
