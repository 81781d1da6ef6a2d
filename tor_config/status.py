"""What the operator's ``status`` shows: tor, bootstrap, each service, descriptor uploads.

Descriptor uploads come from tor's ``HS_DESC`` events (UPLOADED / FAILED,
one per descriptor per HSDir).  They are counted per *day* only, as
:class:`datetime.date`: Haven keeps no times of day anywhere, and a count
per day is enough to see that a service is being published.

A :class:`TorStatus` has one JSON form (:meth:`TorStatus.to_json`, read back
by :meth:`TorStatus.from_json`), which the server writes to a file so that
other processes can report without a control connection of their own, and
one description for a terminal (:func:`describe`).
"""

from __future__ import annotations

import datetime
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

import stem
import stem.control

from tor_config.bootstrap import BootstrapProgress, bootstrap_progress
from tor_config.errors import ControlError, StatusFormatError
from tor_config.onion import OnionService, running_services

KEEP_DAYS = 7
_T = TypeVar("_T")


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
    """Tor as a whole, and each of Haven's services.

    :var str version: tor's version, e.g. ``0.4.9.11``
    :var BootstrapProgress bootstrap: how far tor has bootstrapped
    :var tuple services: a :class:`ServiceStatus` per service
    """

    version: str
    bootstrap: BootstrapProgress
    services: tuple[ServiceStatus, ...]

    def to_json(self) -> dict[str, Any]:
        """Return the status in its JSON form, for :func:`json.dumps`.

        Days are ``YYYY-MM-DD`` strings; no time of day is ever written.

        :returns: a dict of str, int, bool, lists and dicts only, which
          :meth:`from_json` turns back into an equal :class:`TorStatus`
        """
        return {
            "version": self.version,
            "bootstrap": {
                "percent": self.bootstrap.percent,
                "tag": self.bootstrap.tag,
                "summary": self.bootstrap.summary,
            },
            "services": [
                {
                    "name": service.name,
                    "address": service.address,
                    "running": service.running,
                    "pow_enabled": service.pow_enabled,
                    "client_keys": service.client_keys,
                    "uploads": [
                        {"day": counts.day.isoformat(), "uploaded": counts.uploaded,
                         "failed": counts.failed}
                        for counts in service.uploads
                    ],
                }
                for service in self.services
            ],
        }

    @classmethod
    def from_json(cls, data: object) -> TorStatus:
        """Read a status back from its JSON form (what :meth:`to_json` returns).

        :param data: the value :func:`json.loads` gave

        :returns: the :class:`TorStatus` it describes

        :raises StatusFormatError: if ``data`` is not in that form: a missing
          or mistyped field, or a day that is not ``YYYY-MM-DD`` (such as a
          time)
        """
        top = _object(data, "status")
        bootstrap = _object(top.get("bootstrap"), "bootstrap")
        return cls(
            _typed(top, "version", str),
            BootstrapProgress(
                _typed(bootstrap, "percent", int),
                _typed(bootstrap, "tag", str),
                _typed(bootstrap, "summary", str),
            ),
            tuple(_service_from_json(item) for item in _typed(top, "services", list)),
        )


def _object(value: object, what: str) -> dict[str, object]:
    if not isinstance(value, dict):
        raise StatusFormatError(f"{what} is not a JSON object")
    return value


def _typed(fields: dict[str, object], key: str, kind: type[_T]) -> _T:
    value = fields.get(key)
    # bool is an int subclass, and a count of True devices is not a count.
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise StatusFormatError(f"{key!r} is missing or not a {kind.__name__}")
    return value


def _day(text: str) -> datetime.date:
    try:
        day = datetime.date.fromisoformat(text)
    except ValueError:
        day = None
    # fromisoformat also takes 20261126 and week dates; only YYYY-MM-DD is ours.
    if day is None or day.isoformat() != text:
        raise StatusFormatError(f"not a day (YYYY-MM-DD): {text!r}")
    return day


def _service_from_json(value: object) -> ServiceStatus:
    fields = _object(value, "service")
    uploads = []
    for item in _typed(fields, "uploads", list):
        counts = _object(item, "upload counts")
        uploads.append(UploadCounts(
            _day(_typed(counts, "day", str)),
            _typed(counts, "uploaded", int),
            _typed(counts, "failed", int),
        ))
    return ServiceStatus(
        _typed(fields, "name", str),
        _typed(fields, "address", str),
        _typed(fields, "running", bool),
        _typed(fields, "pow_enabled", bool),
        _typed(fields, "client_keys", int),
        tuple(uploads),
    )


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


def _count(number: int, singular: str, plural: str) -> str:
    return f"{number} {singular if number == 1 else plural}"


def describe(status: TorStatus) -> str:
    """Return the status as lines for a terminal (``python run.py status``).

    The addresses are not repeated: the caller shows them, from the keys it
    stores, whether or not tor is running.  A ``staff`` service without
    client keys is called out: Haven never means to run one open to anyone.

    :returns: the lines, joined by newlines, without a final newline
    """
    boot = status.bootstrap
    lines = [f"tor {status.version}, bootstrapped {boot.percent}% ({boot.tag})"]
    if not boot.done:
        lines.append("tor cannot reach the network yet; the addresses are published once it can")
    for service in status.services:
        line = (f"{service.name}: {'running' if service.running else 'NOT RUNNING'}, "
                f"PoW {'on' if service.pow_enabled else 'off'}")
        if service.client_keys:
            line += ", " + _count(service.client_keys, "authorized device", "authorized devices")
        elif service.name == "staff":
            line += ", NO CLIENT AUTHORIZATION: open to anyone"
        lines.append(line)
        for counts in service.uploads:
            uploads = _count(counts.uploaded, "descriptor upload", "descriptor uploads")
            lines.append(f"  {counts.day.isoformat()}: {uploads}, {counts.failed} failed")
    return "\n".join(lines)
