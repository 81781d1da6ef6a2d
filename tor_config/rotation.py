"""Rotating a service to a new key, and so to a new address.

Done when an address has been burned (published where it should not be, or
its key may have leaked).  The operator CLI asks for confirmation first:
everyone who knew the old address loses it.
"""

from __future__ import annotations

from dataclasses import replace

import stem.control

from tor_config.keys import service_id_from_key
from tor_config.onion import (
    KeyStore,
    OnionService,
    ServiceSpec,
    Warn,
    add_service,
    cut_connections,
    remove_service,
)


def rotate_service(
    controller: stem.control.Controller,
    spec: ServiceSpec,
    keystore: KeyStore,
    on_warning: Warn | None = None,
) -> OnionService:
    """Give a service a new key and address, and retire the old one.

    The order keeps a failure harmless: the new service is added first; its
    key is stored next (if storing fails, the new service is removed again
    and the old one goes on); only then is the old service removed.

    :returns: the new :class:`OnionService`; ``.address`` is the new address

    :raises OnionServiceError: if tor refuses the new service
    :raises ControlError: if the control connection fails
    """
    old_key = keystore.get(spec.name) or spec.key
    new = add_service(controller, replace(spec, key=None), on_warning)
    try:
        keystore.put(spec.name, new.key)
    except BaseException:
        remove_service(controller, new.service_id, missing_ok=True)
        raise
    if old_key is not None:
        old_id = service_id_from_key(old_key)
        remove_service(controller, old_id, missing_ok=True)
        # Connections to the old address would otherwise stay open.
        cut_connections(controller, old_id)
    return new
