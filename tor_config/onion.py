"""Haven's v3 onion services: describe, add (ADD_ONION), remove, publish with stored keys.

Every service is added with ``Flags=Detach``: it then belongs to tor, not
to the control connection that made it, so it survives a dropped or
reconnected controller.  Re-adding a key tor still holds fails with
"550 Onion address collision"; :func:`add_service` then removes the old copy
and adds the new one, so the service always has the settings asked for.

Addresses: a *service id* is the 56 base32 characters alone (what tor's
control protocol speaks); an *address* is ``<service id>.onion`` (what a
browser needs).  :class:`OnionService` has both.
"""

from __future__ import annotations

import ipaddress
import logging
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from typing import Protocol

import stem
import stem.control
import stem.response

from tor_config.control import reply_code, send_command
from tor_config.errors import (
    ControlError,
    InvalidServiceKey,
    InvalidServiceSpec,
    OnionServiceError,
    UnknownService,
)
from tor_config.keys import normalize_client_key, parse_service_key, service_id, service_id_from_key
from tor_config.pow import PowSettings, is_pow_refusal, pow_keywords

logger = logging.getLogger(__name__)

Warn = Callable[[str], None]

_NAME = re.compile(r"[a-z][a-z0-9_-]{0,31}")
_UNIX_PATH = re.compile(r"/[^\s\"\\]+")
#: tor's ceiling for MaxStreams (a 16-bit count of streams per circuit).
MAX_STREAMS_LIMIT = 65535


@dataclass(frozen=True)
class ServiceSpec:
    """What one onion service should be.

    :var str name: Haven's name for it, ``public`` or ``staff``
    :var str target: where tor forwards connections: ``unix:/abs/path`` or
      ``127.0.0.1:PORT`` (any 127.0.0.0/8 address)
    :var str key: ``ED25519-V3:<base64>`` to keep an address, or None for a
      new one (not shown in repr)
    :var tuple client_keys: base32 x25519 public keys allowed in; empty
      means no client authorization
    :var PowSettings pow: the proof-of-work defence, or None for none
    :var int virtual_port: the port clients connect to
    :var int max_streams: the most connections one rendezvous circuit may
      hold open at once; 0 for no limit
    :var bool max_streams_close_circuit: tear down a circuit that asks for
      more (instead of ignoring the extra stream requests)
    """

    name: str
    target: str
    key: str | None = field(default=None, repr=False)
    client_keys: tuple[str, ...] = ()
    pow: PowSettings | None = None
    virtual_port: int = 80
    max_streams: int = 0
    max_streams_close_circuit: bool = False

    def __post_init__(self) -> None:
        if not _NAME.fullmatch(self.name):
            raise InvalidServiceSpec(f"service name must match {_NAME.pattern}: {self.name!r}")
        _check_target(self.target)
        if not 0 < self.virtual_port < 65536:
            raise InvalidServiceSpec(f"virtual port out of range: {self.virtual_port}")
        if not 0 <= self.max_streams <= MAX_STREAMS_LIMIT:
            raise InvalidServiceSpec(
                f"max_streams must be from 0 to {MAX_STREAMS_LIMIT}: {self.max_streams}")
        if self.max_streams_close_circuit and not self.max_streams:
            raise InvalidServiceSpec("max_streams_close_circuit needs a max_streams")
        if self.key is not None:
            parse_service_key(self.key)
        object.__setattr__(
            self, "client_keys", tuple(normalize_client_key(k) for k in self.client_keys)
        )


def _check_target(target: str) -> None:
    if target.startswith("unix:"):
        if not _UNIX_PATH.fullmatch(target[len("unix:"):]):
            raise InvalidServiceSpec(
                f"unix target needs an absolute path without spaces or quotes: {target!r}"
            )
        return
    host, _, port = target.rpartition(":")
    try:
        loopback = ipaddress.IPv4Address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback or not port.isdigit() or not 0 < int(port) < 65536:
        # Haven's app listens on loopback or a unix socket, never elsewhere.
        raise InvalidServiceSpec(f"target must be unix:/path or 127.0.0.1:PORT: {target!r}")


@dataclass(frozen=True)
class OnionService:
    """An onion service tor is running for us.

    :var str name: the spec's name
    :var str service_id: 56 characters, **without** ``.onion``
    :var str key: ``ED25519-V3:<base64>``, to store and pass back next time
      (not shown in repr)
    :var bool pow_enabled: whether tor accepted the proof-of-work defence
    :var tuple client_keys: the base32 public keys allowed in
    """

    name: str
    service_id: str
    key: str = field(repr=False)
    pow_enabled: bool = False
    client_keys: tuple[str, ...] = ()

    @property
    def address(self) -> str:
        """The address **with** ``.onion``, as a browser needs it."""
        return self.service_id + ".onion"


def add_onion_command(spec: ServiceSpec, *, with_pow: bool = True) -> str:
    """Build the raw ADD_ONION command for a spec.

    :param with_pow: include the PoW keywords if the spec has PoW settings

    :returns: e.g. ``ADD_ONION NEW:ED25519-V3 Flags=Detach,MaxStreamsCloseCircuit
      MaxStreams=20 Port=80,unix:/x/app.sock PoWDefensesEnabled=1 PoWQueueRate=250
      PoWQueueBurst=2500``
    """
    parts = ["ADD_ONION", spec.key or "NEW:ED25519-V3"]
    flags = ["Detach"]
    if spec.client_keys:
        # V3Auth is required with ClientAuthV3: without it tor answers
        # "512 No auth type specified".
        flags.append("V3Auth")
    if spec.max_streams_close_circuit:
        flags.append("MaxStreamsCloseCircuit")
    parts.append("Flags=" + ",".join(flags))
    if spec.max_streams:
        parts.append(f"MaxStreams={spec.max_streams}")
    parts.append(f"Port={spec.virtual_port},{spec.target}")
    parts.extend(f"ClientAuthV3={key}" for key in spec.client_keys)
    if with_pow and spec.pow is not None:
        parts.extend(pow_keywords(spec.pow))
    return " ".join(parts)


def _warn(message: str, on_warning: Warn | None) -> None:
    logger.warning("%s", message)
    if on_warning is not None:
        on_warning(message)


def _refusal(reply: stem.response.ControlMessage, name: str) -> OnionServiceError:
    code, text = reply_code(reply)
    if "decode ED25519-V3 key" in text:
        return InvalidServiceKey(f"tor cannot use the stored key of service {name!r}", code)
    return OnionServiceError(f"tor refused service {name!r}: {text}", code)


def add_service(
    controller: stem.control.Controller, spec: ServiceSpec, on_warning: Warn | None = None
) -> OnionService:
    """Add (or replace) one detached onion service.

    If the spec asks for PoW and tor does not know the keywords, this warns
    (logging and ``on_warning``) and adds the service without it.

    :returns: the running :class:`OnionService`, with the key to store

    :raises OnionServiceError: if tor refuses the service
    :raises InvalidServiceKey: if tor cannot decode the spec's key
    :raises ControlError: if the control connection fails
    """
    with_pow = spec.pow is not None
    reply = send_command(controller, add_onion_command(spec, with_pow=with_pow))
    code, text = reply_code(reply)
    if with_pow and is_pow_refusal(code, text):
        _warn(f"this tor has no proof-of-work defence ({text}); "
              f"service {spec.name!r} runs without it", on_warning)
        with_pow = False
        reply = send_command(controller, add_onion_command(spec, with_pow=False))
        code, text = reply_code(reply)
    if code == "550" and spec.key is not None and "collision" in text:
        # Still there from before a reconnect, or added by an earlier run
        # against the same tor: replace it so the settings are ours.
        remove_service(controller, service_id_from_key(spec.key), missing_ok=True)
        reply = send_command(controller, add_onion_command(spec, with_pow=with_pow))
    if not reply.is_ok():
        raise _refusal(reply, spec.name)
    return _service_from_reply(reply, spec, with_pow)


def _service_from_reply(
    reply: stem.response.ControlMessage, spec: ServiceSpec, pow_enabled: bool
) -> OnionService:
    try:
        stem.response.convert("ADD_ONION", reply)
    except stem.ProtocolError as exc:
        raise OnionServiceError(f"unexpected ADD_ONION reply: {exc}") from exc
    key = spec.key or f"{reply.private_key_type}:{reply.private_key}"
    if service_id_from_key(key) != reply.service_id:
        raise OnionServiceError(f"tor's address for {spec.name!r} does not match its key")
    return OnionService(spec.name, reply.service_id, key, pow_enabled, spec.client_keys)


def remove_service(
    controller: stem.control.Controller, address: str, *, missing_ok: bool = False
) -> None:
    """Remove an onion service (DEL_ONION); detached ones too.

    :param address: service id or ``.onion`` address
    :param missing_ok: do not raise if tor has no such service

    :raises InvalidOnionAddress: if ``address`` is not a v3 address
    :raises UnknownService: if tor has no such service and not ``missing_ok``
    :raises OnionServiceError: if tor refuses otherwise
    :raises ControlError: if the control connection fails
    """
    reply = send_command(controller, f"DEL_ONION {service_id(address)}")
    if reply.is_ok():
        return
    code, text = reply_code(reply)
    if code == "552":
        if missing_ok:
            return
        raise UnknownService(f"tor has no onion service {service_id(address)}", code)
    raise OnionServiceError(f"tor refused to remove {service_id(address)}: {text}", code)


def running_services(controller: stem.control.Controller) -> set[str]:
    """Return the service ids of every onion service tor runs for controllers.

    :returns: ids (without ``.onion``) from ``onions/detached`` and this
      connection's ``onions/current``

    :raises ControlError: if the control connection fails
    """
    ids: set[str] = set()
    for key in ("onions/detached", "onions/current"):
        try:
            ids.update(str(controller.get_info(key)).split())
        except stem.ControllerError as exc:
            raise ControlError(f"cannot list tor's onion services: {exc}") from exc
    return ids


def cut_connections(controller: stem.control.Controller, address: str) -> int:
    """Close the rendezvous circuits of a service: every client connected now.

    Needed after a revocation.  A client's rendezvous circuit survives
    DEL_ONION, and once the service is re-added with the same key tor hands
    that circuit's new streams to it: on a private test network a revoked
    device kept reaching the staff service for about 30 s this way.  Clients
    still authorized just reconnect.

    :param address: the service id or ``.onion`` address

    :returns: how many circuits were closed

    :raises InvalidOnionAddress: if ``address`` is not a v3 address
    :raises ControlError: if the control connection fails
    """
    sid = service_id(address)
    try:
        circuits = controller.get_circuits()
    except stem.ControllerError as exc:
        raise ControlError(f"cannot list tor's circuits: {exc}") from exc
    closed = 0
    for circuit in circuits:
        if circuit.purpose == "HS_SERVICE_REND" and circuit.rend_query == sid:
            try:
                controller.close_circuit(circuit.id)
            except stem.InvalidArguments:
                continue  # closed meanwhile: "Unknown circuit"
            except stem.ControllerError as exc:
                raise ControlError(f"cannot close circuit {circuit.id}: {exc}") from exc
            closed += 1
    return closed


class KeyStore(Protocol):
    """Where service keys are kept between runs (Haven: inside its encrypted database).

    Keys are ``ED25519-V3:<base64>`` strings, secrets that decide the
    address: never write them to a plain file.
    """

    def get(self, name: str) -> str | None:
        """Return the key stored for service ``name``, or None."""

    def put(self, name: str, key: str) -> None:
        """Store (or replace) the key of service ``name``."""


def publish(
    controller: stem.control.Controller,
    specs: Iterable[ServiceSpec],
    keystore: KeyStore,
    on_warning: Warn | None = None,
) -> dict[str, OnionService]:
    """Add every service, re-using stored keys so addresses never change.

    A service's key comes from the keystore, else from its spec, else tor
    makes a new one; a key the keystore did not have is put there at once,
    before the next service is added.

    :returns: each spec's name mapped to its running :class:`OnionService`
      (``.address`` is the ``.onion`` address)

    :raises OnionServiceError: if tor refuses a service
    :raises ControlError: if the control connection fails
    """
    published: dict[str, OnionService] = {}
    for spec in specs:
        stored = keystore.get(spec.name)
        service = add_service(controller, replace(spec, key=stored or spec.key), on_warning)
        if stored != service.key:
            keystore.put(spec.name, service.key)
        published[spec.name] = service
    return published
