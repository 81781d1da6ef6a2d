"""A torrc block for operators who run Haven behind their system tor.

With a system tor the service keys live in each ``HiddenServiceDir`` (tor's
own files), not in Haven's encrypted database; that is the trade an operator
makes by choosing this mode.  Every option here is checked against tor
0.4.9's ``tor --verify-config`` in the tests.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from tor_config.errors import InvalidServiceSpec
from tor_config.onion import ServiceSpec

DEFAULT_SERVICE_ROOT = Path("/var/lib/tor")


def _service_block(spec: ServiceSpec, root: Path) -> list[str]:
    directory = root / f"haven-{spec.name}"
    lines = [f"# {spec.name}"]
    if spec.client_keys:
        lines += [
            "# Client authorization: one file per device in",
            f"#   {directory / 'authorized_clients'}/<device>.auth",
            "# holding one line: descriptor:x25519:<that device's base32 public key>",
            "# then reload tor.",
        ]
    lines += [
        f"HiddenServiceDir {directory}",
        f"HiddenServicePort {spec.virtual_port} {spec.target}",
    ]
    if spec.max_streams:
        lines.append(f"HiddenServiceMaxStreams {spec.max_streams}")
    if spec.max_streams_close_circuit:
        lines.append("HiddenServiceMaxStreamsCloseCircuit 1")
    if spec.pow is not None:
        lines += [
            "HiddenServicePoWDefensesEnabled 1",
            f"HiddenServicePoWQueueRate {spec.pow.queue_rate}",
            f"HiddenServicePoWQueueBurst {spec.pow.queue_burst}",
        ]
    return lines


def render_torrc(specs: Iterable[ServiceSpec], service_root: Path = DEFAULT_SERVICE_ROOT) -> str:
    """Render the torrc lines for Haven's services on a system tor.

    :param specs: the services (their keys are ignored: tor keeps its own)
    :param service_root: where each ``HiddenServiceDir haven-<name>`` goes

    :returns: the block, ending in a newline, to add to ``/etc/tor/torrc``

    :raises InvalidServiceSpec: if ``service_root`` is relative (tor resolves
      relative paths against its working directory, not its data directory)
    """
    if not service_root.is_absolute():
        raise InvalidServiceSpec(f"service_root must be absolute: {service_root}")
    lines = [
        "# Haven's onion services. Add to /etc/tor/torrc, then restart tor",
        "# (Sandbox takes effect only at start, not on reload).",
        "# A unix: target must be a socket the tor user (debian-tor) can write to.",
        "Sandbox 1",
        "SafeLogging 1",
    ]
    for spec in specs:
        lines += ["", *_service_block(spec, service_root)]
    return "\n".join(lines) + "\n"
