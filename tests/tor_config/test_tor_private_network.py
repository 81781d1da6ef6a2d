"""End to end: onion services made by tor_config, reached over a private Tor network.

Nothing leaves 127.0.0.1: three authorities, three relays, the tor that
hosts the services and a client tor all run here (see tests/tor_network.py).
The network is the session's shared one (tests/conftest.py); every wait is
bounded.
"""

from __future__ import annotations

import http.server
import socketserver
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import pytest
import stem.control
from stem import Signal
from tor_helpers import MemoryKeyStore
from tor_network import PrivateNetwork, Uploads, register_client_key
from tor_socks import MISSING_CLIENT_AUTH, WRONG_CLIENT_AUTH, SocksError

from tor_config.bootstrap import wait_for_bootstrap
from tor_config.client_auth import ClientKeyPair, generate_client_keys
from tor_config.control import AttachedTor, HavenController, connect, parse_control_address
from tor_config.onion import OnionService, ServiceSpec
from tor_config.pow import PowSettings
from tor_config.status import DescriptorLog, tor_status
from tor_config.watchdog import Watchdog

FETCH_TIMEOUT = 120.0


class Page(http.server.BaseHTTPRequestHandler):
    """Answers every GET with the server's ``body``."""

    def do_GET(self) -> None:
        body: bytes = self.server.body  # type: ignore[attr-defined]
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass  # Haven keeps no access logs; neither do its tests


class UnixHTTPServer(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True


def serve(server: socketserver.BaseServer, body: bytes) -> Callable[[], None]:
    """Serve ``body`` in a thread; return the function that stops it."""
    server.body = body  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1})
    thread.start()

    def stop() -> None:
        server.shutdown()
        server.server_close()
        thread.join(10)

    return stop


@pytest.fixture
def pages(short_dir: Path) -> Iterator[tuple[str, str]]:
    """A public page on 127.0.0.1:PORT and a staff page on a unix socket."""
    public = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Page)
    staff_socket = short_dir / "staff.sock"
    staff = UnixHTTPServer(str(staff_socket), Page)
    stops = [serve(public, b"public page"), serve(staff, b"staff page")]
    yield f"127.0.0.1:{public.server_address[1]}", f"unix:{staff_socket}"
    for stop in stops:
        stop()


@pytest.mark.tor
@pytest.mark.xdist_group("tor_network")
def test_onion_services_over_a_private_network(
    tor_network: PrivateNetwork,
    pages: tuple[str, str],
    record_property: Callable[[str, object], None],
) -> None:
    net = tor_network
    started = time.monotonic()
    public_target, staff_target = pages
    alice = generate_client_keys()
    specs = [
        ServiceSpec("public", public_target, pow=PowSettings()),
        ServiceSpec("staff", staff_target, client_keys=(alice.public,)),
    ]
    uploads = DescriptorLog()
    watch = Uploads()

    def attach(controller: stem.control.Controller) -> None:
        uploads.attach(controller)
        watch.attach(controller)

    # Haven's own path: a watchdog attached to the service tor publishes
    # the services and re-adds the staff one when its devices change.
    source = AttachedTor(parse_control_address(net.service_control_socket))
    watchdog = Watchdog(source, specs, MemoryKeyStore(), lambda _event: None,
                        interval=60, on_controller=attach)
    try:
        services = watchdog.start()
        service_tor = watchdog.controller
        assert service_tor is not None
        check_public(net, services["public"])
        with connect(f"127.0.0.1:{net.client_control_port}") as client_tor:
            check_staff(net, watchdog, client_tor, watch, alice, specs[1])
        status = tor_status(service_tor, watchdog.services.values(), uploads)
        assert wait_for_bootstrap(service_tor, timeout=0).done
    finally:
        watchdog.stop(remove_services=True)
    assert status.bootstrap.done
    for service in status.services:
        assert service.running
        assert service.uploads
        assert service.uploads[0].uploaded > 0
    elapsed = time.monotonic() - started
    record_property("e2e_seconds", round(elapsed, 1))


def check_public(net: PrivateNetwork, public: OnionService) -> None:
    assert public.pow_enabled
    assert net.get(public.address).endswith(b"\r\n\r\npublic page")


def check_staff(
    net: PrivateNetwork,
    watchdog: Watchdog,
    client_tor: HavenController,
    watch: Uploads,
    alice: ClientKeyPair,
    spec: ServiceSpec,
) -> None:
    """Only a client holding an authorized key reaches the staff page; revoking works."""
    staff_id = watchdog.services["staff"].service_id
    # Without a key the client can fetch the descriptor but not read it.
    with pytest.raises(SocksError) as refused:
        net.get(staff_id + ".onion", give_up_on={MISSING_CLIENT_AUTH})
    assert refused.value.code == MISSING_CLIENT_AUTH, refused.value
    register_client_key(client_tor, staff_id, alice.private)
    assert net.get(staff_id + ".onion").endswith(b"\r\n\r\nstaff page")
    # Authorize bob and revoke alice: same address, and her open connection is cut.
    bob = generate_client_keys()
    with_bob = watchdog.replace_service(replace(spec, client_keys=(alice.public, bob.public)))
    assert with_bob is not None
    assert with_bob.service_id == staff_id
    since = watch.mark()
    revoked = watchdog.replace_service(replace(spec, client_keys=(bob.public,)))
    assert revoked is not None
    assert revoked.service_id == staff_id
    assert revoked.client_keys == (bob.public,)
    service_tor = watchdog.controller
    assert service_tor is not None
    assert not [
        c for c in service_tor.get_circuits()
        if c.purpose == "HS_SERVICE_REND" and c.rend_query == staff_id
    ]
    watch.wait_published(staff_id, since)
    # A fresh start of her tor meets the new descriptor, which her key cannot
    # decrypt.  (NEWNYM drops the client's descriptor cache, and with it the
    # keys given by ONION_CLIENT_AUTH_ADD: hers is given again.)
    client_tor.signal(Signal.NEWNYM)
    register_client_key(client_tor, staff_id, alice.private)
    with pytest.raises(SocksError) as shut_out:
        net.get(staff_id + ".onion", give_up_on={MISSING_CLIENT_AUTH, WRONG_CLIENT_AUTH})
    assert shut_out.value.code == WRONG_CLIENT_AUTH, shut_out.value
    register_client_key(client_tor, staff_id, bob.private)
    assert net.get(staff_id + ".onion").endswith(b"\r\n\r\nstaff page")
