"""Status: tor's version and bootstrap, each service, descriptor uploads by day;
its JSON form and its description."""

from __future__ import annotations

import datetime
import json
import subprocess

import pytest
import stem.response
from tor_helpers import MemoryKeyStore

from tor_config.bootstrap import BootstrapProgress
from tor_config.control import HavenController
from tor_config.errors import StatusFormatError
from tor_config.onion import ServiceSpec, publish, remove_service
from tor_config.status import (
    DescriptorLog,
    ServiceStatus,
    TorStatus,
    UploadCounts,
    describe,
    tor_status,
)

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
    assert public.address == services["public"].address
    assert staff.address == services["staff"].address
    assert public.uploads == ()  # an offline tor publishes nothing
    assert describe(status).splitlines()[1:] == [
        "tor cannot reach the network yet; the addresses are published once it can",
        "public: running, PoW on",
        "staff: NOT RUNNING, PoW off, 1 authorized device",
    ]
    assert TorStatus.from_json(json.loads(json.dumps(status.to_json()))) == status


STATUS = TorStatus("0.4.9.11", BootstrapProgress(100, "done", "Done"), (
    ServiceStatus("public", "a" * 56 + ".onion", True, True, 0, (
        UploadCounts(datetime.date(2026, 3, 2), 1, 0),
        UploadCounts(datetime.date(2026, 3, 1), 12, 2),
    )),
    ServiceStatus("staff", "b" * 56 + ".onion", False, False, 3, ()),
))


def test_json_form_keeps_days_as_iso_dates() -> None:
    data = STATUS.to_json()
    assert data["services"][0]["uploads"] == [
        {"day": "2026-03-02", "uploaded": 1, "failed": 0},
        {"day": "2026-03-01", "uploaded": 12, "failed": 2},
    ]
    assert data["bootstrap"] == {"percent": 100, "tag": "done", "summary": "Done"}
    assert TorStatus.from_json(json.loads(json.dumps(data))) == STATUS


def _with(path: tuple[str | int, ...], value: object) -> dict[str, object]:
    """STATUS in JSON form with one field replaced (or removed, for ``...``)."""
    data = json.loads(json.dumps(STATUS.to_json()))
    inner = data
    for step in path[:-1]:
        inner = inner[step]
    if value is ...:
        del inner[path[-1]]
    else:
        inner[path[-1]] = value
    return data


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (_with(("services", 0, "uploads", 0, "day"), "2026-03-02T10:15:00"), "not a day"),
        (_with(("services", 0, "uploads", 0, "day"), "20260302"), "not a day"),
        (_with(("services", 0, "uploads", 0, "day"), "yesterday"), "not a day"),
        (_with(("services", 1, "client_keys"), True), "'client_keys'"),
        (_with(("services", 1, "running"), 1), "'running'"),
        (_with(("bootstrap", "percent"), "100"), "'percent'"),
        (_with(("version",), ...), "'version'"),
        (_with(("services",), {}), "'services'"),
        (_with(("services", 0), "public"), "service is not"),
        ([], "status is not"),
    ],
)
def test_json_form_refuses_anything_else(data: object, words: str) -> None:
    with pytest.raises(StatusFormatError, match=words):
        TorStatus.from_json(data)


def test_description_for_a_terminal() -> None:
    assert describe(STATUS) == "\n".join([
        "tor 0.4.9.11, bootstrapped 100% (done)",
        "public: running, PoW on",
        "  2026-03-02: 1 descriptor upload, 0 failed",
        "  2026-03-01: 12 descriptor uploads, 2 failed",
        "staff: NOT RUNNING, PoW off, 3 authorized devices",
    ])


def test_description_calls_out_an_open_staff_service() -> None:
    open_staff = ServiceStatus("staff", "b" * 56 + ".onion", True, False, 0, ())
    status = TorStatus("0.4.9.11", BootstrapProgress(45, "loading", "Loading"), (open_staff,))
    assert describe(status).splitlines() == [
        "tor 0.4.9.11, bootstrapped 45% (loading)",
        "tor cannot reach the network yet; the addresses are published once it can",
        "staff: running, PoW off, NO CLIENT AUTHORIZATION: open to anyone",
    ]
