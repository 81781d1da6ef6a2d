"""Rotating a service to a new address."""

from __future__ import annotations

import pytest

from tor_config.control import HavenController
from tor_config.onion import MemoryKeyStore, ServiceSpec, publish, running_services
from tor_config.rotation import rotate_service


@pytest.mark.tor
def test_rotation_gives_a_new_address_and_retires_the_old(
    controller: HavenController, specs: list[ServiceSpec]
) -> None:
    keystore = MemoryKeyStore()
    old = publish(controller, specs, keystore)
    new = rotate_service(controller, specs[0], keystore)
    assert new.address != old["public"].address
    assert keystore.get("public") == new.key
    running = running_services(controller)
    assert new.service_id in running
    assert old["public"].service_id not in running
    assert old["staff"].service_id in running  # the other service is untouched
    # And the new address is the one a restart brings back.
    assert publish(controller, specs, keystore)["public"].address == new.address


class FailingKeyStore(MemoryKeyStore):
    """A keystore whose database write fails."""

    def put(self, name: str, key: str) -> None:
        raise OSError("database is locked")


@pytest.mark.tor
def test_failed_store_leaves_the_old_service_running(
    controller: HavenController, specs: list[ServiceSpec]
) -> None:
    keystore = MemoryKeyStore()
    old = publish(controller, specs[:1], keystore)["public"]
    failing = FailingKeyStore({"public": old.key})
    before = running_services(controller)
    with pytest.raises(OSError, match="database is locked"):
        rotate_service(controller, specs[0], failing)
    assert running_services(controller) == before
    assert failing.get("public") == old.key
