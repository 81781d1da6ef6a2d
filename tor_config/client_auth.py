"""v3 client authorization for the staff service: one x25519 key pair per device.

The service holds each device's **public** key (``ClientAuthV3=`` in
ADD_ONION, see :mod:`tor_config.onion`); only tor clients holding a matching
**private** key can decrypt the service's descriptor, so to everyone else the
staff address does not answer at all (SOCKS error 0xF4, "missing client
authorization").

The private key goes to the volunteer's device, once, as the line Tor
Browser or a tor daemon takes (:func:`tor_browser_line`).  Revoking a device
is re-adding the service without its public key
(:meth:`tor_config.watchdog.Watchdog.replace_service`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from nacl.public import PrivateKey

from tor_config.keys import encode_base32, normalize_client_key, service_id


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
