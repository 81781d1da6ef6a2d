"""v3 client authorization for the staff service: one x25519 key pair per device.

The service holds each device's **public** key (``ClientAuthV3=`` in
ADD_ONION); only tor clients holding a matching **private** key can decrypt
the service's descriptor, so to everyone else the staff address does not
answer at all (SOCKS error 0xF4, "missing client authorization").

The private key goes to the volunteer's device, once, as the line Tor
Browser or a tor daemon takes (:func:`tor_browser_line`).  Revoking a device
re-adds the service without its public key (:func:`revoke_client`).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import stem.control
from nacl.public import PrivateKey

from tor_config.control import reply_code, send_command
from tor_config.errors import InvalidClientKey, OnionServiceError
from tor_config.keys import (
    base32_to_base64,
    decode_client_key,
    encode_base32,
    normalize_client_key,
    service_id,
)
from tor_config.onion import (
    KeyStore,
    OnionService,
    ServiceSpec,
    Warn,
    cut_connections,
    update_service,
)


@dataclass(frozen=True)
class ClientKeyPair:
    """One device's x25519 key pair, both halves base32 without padding.

    :var str public: goes to the service (Haven's database, ADD_ONION)
    :var str private: goes to the device only; not shown in repr

    .. warning:: The private half lets its holder reach the staff service.
       Hand it over once and do not keep it on the server.
    """

    public: str
    private: str = field(repr=False)


def generate_client_keys() -> ClientKeyPair:
    """Make a new x25519 key pair for one device.

    :returns: a :class:`ClientKeyPair`
    """
    private = PrivateKey.generate()
    return ClientKeyPair(encode_base32(bytes(private.public_key)), encode_base32(bytes(private)))


def public_key_for(private_key: str) -> str:
    """Return the base32 public key that belongs to a base32 private key.

    :raises InvalidClientKey: if ``private_key`` is not a base32 32-byte key
    """
    return encode_base32(bytes(PrivateKey(decode_client_key(private_key)).public_key))


def tor_browser_line(address: str, private_key: str) -> str:
    """Return the credential line for a device.

    ``<service id>:descriptor:x25519:<base32 private key>`` is the content of
    a ``.auth_private`` file in a tor client's ``ClientOnionAuthDir``.

    :param address: the staff service id or ``.onion`` address
    :param private_key: the device's base32 private key

    :raises InvalidOnionAddress: if ``address`` is not a v3 address
    :raises InvalidClientKey: if ``private_key`` is malformed
    """
    return f"{service_id(address)}:descriptor:x25519:{normalize_client_key(private_key)}"


def install_instructions(address: str, private_key: str) -> str:
    """Return the text an operator hands a volunteer with their key.

    :raises InvalidOnionAddress: if ``address`` is not a v3 address
    :raises InvalidClientKey: if ``private_key`` is malformed
    """
    sid = service_id(address)
    key = normalize_client_key(private_key)
    return (
        f"Your staff address: http://{sid}.onion/\n"
        f"Your private key:   {key}\n"
        "\n"
        "Tor Browser: open the staff address. Tor Browser shows a key icon and\n"
        "asks for a private key: paste the key above and tick 'Remember this key'\n"
        "only on a device that is yours alone.\n"
        "\n"
        "A tor daemon: put this one line in a file ending in .auth_private inside\n"
        "the folder named by ClientOnionAuthDir in your torrc, then reload tor:\n"
        f"{tor_browser_line(sid, key)}\n"
        "\n"
        "Anyone holding this key can reach the staff site. Keep it like a password;\n"
        "if the device is lost, ask an operator to revoke it.\n"
    )


def authorized_clients_line(public_key: str) -> str:
    """Return the content of a ``.auth`` file in ``<HiddenServiceDir>/authorized_clients/``.

    :returns: ``descriptor:x25519:<base32 public key>``, for a system tor

    :raises InvalidClientKey: if ``public_key`` is malformed
    """
    return f"descriptor:x25519:{normalize_client_key(public_key)}"


def register_client_key(
    controller: stem.control.Controller, address: str, private_key: str
) -> None:
    """Give a tor *client* a private key for a service (ONION_CLIENT_AUTH_ADD).

    The command takes the key in **base64**; this converts from base32.  The
    key lasts until that tor exits (no ``Permanent`` flag).

    :param address: the service id or ``.onion`` address to reach
    :param private_key: base32 x25519 private key

    :raises InvalidOnionAddress: if ``address`` is not a v3 address
    :raises InvalidClientKey: if the key is malformed, or tor cannot decode it
    :raises ControlError: if the control connection fails
    """
    command = f"ONION_CLIENT_AUTH_ADD {service_id(address)} x25519:{base32_to_base64(private_key)}"
    reply = send_command(controller, command)
    code, text = reply_code(reply)
    # 251 "Client for onion existed and replaced" and 252 "Registered client
    # and decrypted desc" (it had the descriptor already) are successes too.
    if code not in ("250", "251", "252"):
        raise InvalidClientKey(f"tor refused the client key: {text} (tor replied {code})")


def authorize_client(
    controller: stem.control.Controller,
    spec: ServiceSpec,
    public_key: str,
    keystore: KeyStore,
    on_warning: Warn | None = None,
) -> tuple[ServiceSpec, OnionService]:
    """Let one more device in: re-add the service with ``public_key`` added.

    :returns: the new spec (store its ``client_keys``) and the running service

    :raises InvalidClientKey: if ``public_key`` is malformed
    :raises OnionServiceError: if no key is stored for the service or tor refuses
    :raises ControlError: if the control connection fails
    """
    key = normalize_client_key(public_key)
    keys = spec.client_keys if key in spec.client_keys else (*spec.client_keys, key)
    new_spec = replace(spec, client_keys=keys)
    return new_spec, update_service(controller, new_spec, keystore, on_warning)


def revoke_client(
    controller: stem.control.Controller,
    spec: ServiceSpec,
    public_key: str,
    keystore: KeyStore,
    on_warning: Warn | None = None,
) -> tuple[ServiceSpec, OnionService]:
    """Shut one device out: re-add the service, same address, without ``public_key``.

    The new descriptor no longer lists the key, so the device cannot decrypt
    it.  Its open connection would outlive the re-add (see
    :func:`~tor_config.onion.cut_connections`), so every connection to the
    service is cut; devices still authorized reconnect.  Revoking the last
    key is refused: a service with no client keys would be open to all.

    :returns: the new spec (store its ``client_keys``) and the running service

    :raises InvalidClientKey: if ``public_key`` is malformed or not authorized
    :raises OnionServiceError: if it is the last key, or tor refuses
    :raises ControlError: if the control connection fails
    """
    key = normalize_client_key(public_key)
    if key not in spec.client_keys:
        raise InvalidClientKey(f"key {key[:8]}... is not authorized on {spec.name!r}")
    remaining = tuple(k for k in spec.client_keys if k != key)
    if not remaining:
        raise OnionServiceError(
            f"refusing to revoke the last client key of {spec.name!r}: "
            "the service would be open to anyone"
        )
    new_spec = replace(spec, client_keys=remaining)
    service = update_service(controller, new_spec, keystore, on_warning)
    cut_connections(controller, service.service_id)
    return new_spec, service
