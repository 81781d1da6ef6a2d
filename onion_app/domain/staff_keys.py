"""Who may reach the staff onion, and under which addresses the onions live.

Staff devices hold tor client-authorization keys: Haven keeps only the public
half and prints the private half once. Each change is audited and committed
here; a running Haven applies it when told (SIGHUP).
"""

from __future__ import annotations

import re

from onion_app.errors import DeviceExists, HavenError
from onion_app.store import onion_keys, staff
from onion_app.store.connection import Connection
from tor_config.client_auth import generate_client_keys, install_instructions
from tor_config.keys import new_service_key, onion_address, service_id_from_key

ROLES = ("public", "staff")
_DEVICE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,39}")


class BadDeviceName(HavenError):
    """A staff device name Haven will not store."""


def ensure_service_key(conn: Connection, role: str) -> str:
    """The service's stored key, made now if it has none (so its address is known)."""
    key = onion_keys.service_key(conn, role)
    if key is None:
        key = new_service_key()
        onion_keys.put_service_key(conn, role, key)
    return key


def address(key: str | None) -> str | None:
    """The onion address of a stored service key, or None before the first start."""
    return onion_address(service_id_from_key(key)) if key else None


def add_device(conn: Connection, name: str, actor: str = "cli") -> str:
    """Lets one more device reach the staff onion, and commits.

    :returns: the instructions holding the device's private key, to show once
    :raises BadDeviceName: if the name is not 1 to 40 plain characters
    :raises DeviceExists: if a device has that name
    """
    if not _DEVICE_NAME.fullmatch(name):
        raise BadDeviceName("a device name is 1 to 40 letters, digits, dots, dashes "
                            "or underscores")
    if any(existing == name for existing, _, _ in onion_keys.clients(conn)):
        raise DeviceExists(f"a device named {name} exists; revoke it first")
    staff_address = onion_address(service_id_from_key(ensure_service_key(conn, "staff")))
    pair = generate_client_keys()
    onion_keys.add_client(conn, name, pair.public)
    staff.audit(conn, actor, "added staff key", name)
    conn.commit()
    return install_instructions(staff_address, pair.private)


def revoke_device(conn: Connection, name: str) -> None:
    """Shuts one device out of the staff onion, and commits.

    :raises NoSuchDevice: if no device has that name
    :raises LastDevice: if it is the last one (the onion would be open to all)
    """
    onion_keys.revoke_client(conn, name)
    staff.audit(conn, "cli", "revoked staff key", name)
    conn.commit()


def rotate(conn: Connection, role: str) -> tuple[str | None, str]:
    """Gives a service a new key, retiring the old address, and commits.

    :returns: the old address (None if there was none) and the new one
    """
    old = onion_keys.service_key(conn, role)
    new = new_service_key()
    onion_keys.put_service_key(conn, role, new)
    if old is not None:
        # A tor Haven attaches to may still hold the old service (after a
        # crash): the next start or reload removes it from there.
        onion_keys.retire(conn, service_id_from_key(old))
    new_address = onion_address(service_id_from_key(new))
    staff.audit(conn, "cli", f"rotated the {role} onion", new_address)
    conn.commit()
    return address(old), new_address
