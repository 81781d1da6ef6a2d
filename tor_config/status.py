"""What the operator's ``status`` shows: tor, bootstrap, each service, descriptor uploads.

Descriptor uploads come from tor's ``HS_DESC`` events (UPLOADED / FAILED,
one per descriptor per HSDir).  They are counted per *day* only, as
:class:`datetime.date`: Haven keeps no times of day anywhere, and a count
per day is enough to see that a service is being published.
"""

from __future__ import annotations

import datetime
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import stem
import stem.control

from tor_config.bootstrap import BootstrapProgress, bootstrap_progress
from tor_config.errors import ControlError
from tor_config.onion import OnionService, running_services

KEEP_DAYS = 7


@dataclass(frozen=True)
class UploadCounts:
    """Descriptor uploads of one service on one day.

    :var datetime.date day: the day (no time is kept)
    :var int uploaded: uploads HSDirs accepted
    :var int failed: uploads that failed
    """

    day: datetime.date
    uploaded: int = 0
    failed: int = 0


class DescriptorLog:
    """Counts ``HS_DESC`` UPLOADED and FAILED events per service and day.

    :meth:`attach` it to each new controller (the watchdog's
    ``on_controller`` hook does that after a reconnect).  The events arrive
    on stem's event thread, hence the lock.
    """

    def __init__(
        self,
        keep_days: int = KEEP_DAYS,
        today: Callable[[], datetime.date] = datetime.date.today,
    ) -> None:
        self._keep_days = keep_days
        self._today = today
        self._counts: dict[str, dict[datetime.date, UploadCounts]] = {}
        self._lock = threading.Lock()

    def attach(self, controller: stem.control.Controller) -> None:
        """Subscribe to ``HS_DESC`` events on ``controller``.

        :raises ControlError: if tor refuses the subscription or the
          connection fails
        """
        try:
            controller.add_event_listener(self.record, stem.control.EventType.HS_DESC)
        except stem.ControllerError as exc:
            raise ControlError(f"cannot subscribe to HS_DESC events: {exc}") from exc

    def record(self, event: Any) -> None:
        """Count one stem ``HSDescEvent`` (other actions are ignored)."""
        action = str(event.action)
        if action not in ("UPLOADED", "FAILED"):
            return
        day = self._today()
        with self._lock:
            days = self._counts.setdefault(str(event.address), {})
            counts = days.get(day, UploadCounts(day))
            if action == "UPLOADED":
                counts = UploadCounts(day, counts.uploaded + 1, counts.failed)
            else:
                counts = UploadCounts(day, counts.uploaded, counts.failed + 1)
            days[day] = counts
            for old in sorted(days)[: -self._keep_days]:
                del days[old]

    def counts(self, service_id: str) -> tuple[UploadCounts, ...]:
        """Return the counts kept for a service id, newest day first."""
        with self._lock:
            days = self._counts.get(service_id, {})
            return tuple(days[day] for day in sorted(days, reverse=True))


@dataclass(frozen=True)
class ServiceStatus:
    """One onion service as the operator sees it.

    :var str name: ``public`` or ``staff``
    :var str address: the ``.onion`` address
    :var bool running: whether tor lists it among its onion services now
    :var bool pow_enabled: whether the proof-of-work defence is on
    :var int client_keys: how many devices are authorized (0: open service)
    :var tuple uploads: :class:`UploadCounts`, newest day first
    """

    name: str
    address: str
    running: bool
    pow_enabled: bool
    client_keys: int
    uploads: tuple[UploadCounts, ...]


@dataclass(frozen=True)
class TorStatus:
    """Tor as a whole, and each of Haven's services."""

    version: str
    bootstrap: BootstrapProgress
    services: tuple[ServiceStatus, ...]


def tor_status(
    controller: stem.control.Controller,
    services: Iterable[OnionService],
    descriptor_log: DescriptorLog | None = None,
) -> TorStatus:
    """Gather the status of tor and of Haven's services.

    :param services: what :func:`tor_config.onion.publish` returned (its values)
    :param descriptor_log: the log attached to this tor, if any

    :returns: a :class:`TorStatus`

    :raises ControlError: if the control connection fails
    """
    try:
        version = str(controller.get_version()).split()[0]
    except stem.ControllerError as exc:
        raise ControlError(f"cannot read tor's version: {exc}") from exc
    running = running_services(controller)
    return TorStatus(
        version,
        bootstrap_progress(controller),
        tuple(
            ServiceStatus(
                service.name,
                service.address,
                service.service_id in running,
                service.pow_enabled,
                len(service.client_keys),
                descriptor_log.counts(service.service_id) if descriptor_log else (),
            )
            for service in services
        ),
    )


def format_status(status: TorStatus) -> str:
    """Return the status as lines for a terminal."""
    lines = [f"tor {status.version}, bootstrapped {status.bootstrap}"]
    for service in status.services:
        lines.append(
            f"{service.name}: {service.address} "
            f"{'running' if service.running else 'NOT RUNNING'}, "
            f"PoW {'on' if service.pow_enabled else 'off'}, "
            + (f"{service.client_keys} authorized devices" if service.client_keys
               else "no client authorization")
        )
        for counts in service.uploads:
            lines.append(
                f"  {counts.day.isoformat()}: {counts.uploaded} descriptor uploads, "
                f"{counts.failed} failed"
            )
    return "\n".join(lines)
