"""Status: tor's version and bootstrap, each service, descriptor uploads by day."""

from __future__ import annotations

import datetime
import subprocess

import pytest
import stem.response
from tor_helpers import MemoryKeyStore

from tor_config.control import HavenController
from tor_config.onion import ServiceSpec, publish, remove_service
from tor_config.status import DescriptorLog, UploadCounts, format_status, tor_status

SERVICE_ID = "vl7yzabrow42ooxxaz4xntpwntyroynbf74g5a6fde2cpnxvbu434cqd"
HSDIR = "$7483D57AB729C95AC5699FF9295D8FA76A476EE7~havenrelay4"


def hs_desc(action: str, address: str = SERVICE_ID) -> object:
    """An HS_DESC event as stem parses it, in the form tor 0.4.9 sends."""
    line = f"650 HS_DESC {action} {address} UNKNOWN {HSDIR}"
    if action == "FAILED":
        line += " REASON=UPLOAD_REJECTED"
    return stem.response.ControlMessage.from_str(line, "EVENT", normalize=True)


class Calendar:
    """A settable today(), so tests can cross midnight."""

    def __init__(self) -> None:
        self.day = datetime.date(2026, 3, 1)

    def today(self) -> datetime.date:
        return self.day


def test_uploads_are_counted_per_day_without_times() -> None:
    calendar = Calendar()
    log = DescriptorLog(today=calendar.today)
    for action in ("UPLOAD", "UPLOADED", "UPLOADED", "FAILED", "RECEIVED"):
        log.record(hs_desc(action))
    calendar.day += datetime.timedelta(days=1)
    log.record(hs_desc("UPLOADED"))
    log.record(hs_desc("UPLOADED", "pi5pl225yplp33d3slckd3rykrxd42th7seh5kmy62csyb2uvz4ilhid"))
    assert log.counts(SERVICE_ID) == (
        UploadCounts(datetime.date(2026, 3, 2), uploaded=1, failed=0),
        UploadCounts(datetime.date(2026, 3, 1), uploaded=2, failed=1),
    )
    assert all(type(c.day) is datetime.date for c in log.counts(SERVICE_ID))


def test_only_the_last_days_are_kept() -> None:
    calendar = Calendar()
    log = DescriptorLog(keep_days=3, today=calendar.today)
    for _ in range(5):
        log.record(hs_desc("UPLOADED"))
        calendar.day += datetime.timedelta(days=1)
    assert [c.day.day for c in log.counts(SERVICE_ID)] == [5, 4, 3]
    assert log.counts("unknown") == ()


@pytest.mark.tor
def test_status_of_an_offline_tor(controller: HavenController, specs: list[ServiceSpec]) -> None:
    log = DescriptorLog()
    log.attach(controller)
    services = publish(controller, specs, MemoryKeyStore())
    remove_service(controller, services["staff"].service_id)
    status = tor_status(controller, services.values(), log)
    installed = subprocess.run(["tor", "--version"], capture_output=True, text=True, check=True)
    assert f"Tor version {status.version}." in installed.stdout
    assert status.bootstrap.percent == 0
    public, staff = status.services
    assert (public.name, public.running, public.pow_enabled, public.client_keys) == (
        "public", True, True, 0,
    )
    assert (staff.name, staff.running, staff.pow_enabled, staff.client_keys) == (
        "staff", False, False, 1,
    )
    assert public.uploads == ()  # an offline tor publishes nothing
    text = format_status(status)
    assert f"public: {services['public'].address} running, PoW on" in text
    assert "staff: " in text
    assert "NOT RUNNING" in text
    assert "1 authorized devices" in text
