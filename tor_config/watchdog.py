"""A thread that keeps Haven's onion services up when tor or its control connection fails.

Every ``interval`` seconds it checks that the control connection is alive,
that our own tor process (if we launched it) is running, and that tor still
lists both services.  If not, it relaunches or reconnects through its
:class:`TorSource`, re-adds every service with its stored key (so the
addresses stay the same), and reports each step to ``on_event``, which
Haven writes to its audit log.  Events carry the day only.
"""

from __future__ import annotations

import contextlib
import datetime
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from typing import Protocol

import stem.control

from tor_config.control import HavenController
from tor_config.errors import TorConfigError
from tor_config.onion import (
    KeyStore,
    OnionService,
    ServiceSpec,
    Warn,
    add_service,
    cut_connections,
    publish,
    remove_service,
    running_services,
)

DEFAULT_INTERVAL = 5.0
STOP_TIMEOUT = 60.0


class TorSource(Protocol):
    """How to get a controller: :class:`tor_config.process.LaunchedTor` or
    :class:`tor_config.control.AttachedTor`."""

    def open(self) -> HavenController:
        """(Re)launch if ours and dead, connect, authenticate; return the controller."""

    def is_running(self) -> bool:
        """Return False if we launched tor and its process has exited."""

    def describe(self) -> str:
        """Return a short description for events."""


@dataclass(frozen=True)
class WatchdogEvent:
    """Something the watchdog noticed or did.

    :var str kind: ``tor_lost``, ``tor_reopened``, ``service_restored``,
      ``recovery_failed`` or ``watchdog_crashed``
    :var str detail: a sentence for the audit log (addresses, never keys)
    :var datetime.date day: when, to the day
    """

    kind: str
    detail: str
    day: datetime.date


class Watchdog:
    """Owns the control connection to tor and brings the services back after failures.

    Call :meth:`start` once (it publishes the services, then starts the
    thread) and :meth:`stop` at shutdown.  Use :attr:`controller` for other
    commands; after a recovery it is a new object.
    """

    def __init__(
        self,
        source: TorSource,
        specs: Iterable[ServiceSpec],
        keystore: KeyStore,
        on_event: Callable[[WatchdogEvent], None],
        *,
        interval: float = DEFAULT_INTERVAL,
        on_controller: Callable[[stem.control.Controller], None] | None = None,
        on_warning: Warn | None = None,
    ) -> None:
        self._source = source
        self._specs = {spec.name: spec for spec in specs}
        self._keystore = keystore
        self._on_event = on_event
        self._interval = interval
        self._on_controller = on_controller
        self._on_warning = on_warning
        self._controller: HavenController | None = None
        self._services: dict[str, OnionService] = {}
        self._lock = threading.RLock()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._last_failure: str | None = None

    @property
    def controller(self) -> HavenController | None:
        """The current controller, or None while tor is being recovered."""
        # No lock: a recovery holds it for as long as a relaunch takes, and
        # reading one reference is atomic.
        return self._controller

    @property
    def services(self) -> dict[str, OnionService]:
        """The running services by name, as last published."""
        return dict(self._services)

    def replace_service(self, spec: ServiceSpec) -> OnionService | None:
        """Publish a changed service now (new client keys, or a new key after a
        rotation) and keep it for future recoveries.

        The old service is removed and every connection to it cut: an open
        circuit outlives a re-add, so without this a revoked device, or a
        visitor of a retired address, would stay connected.

        :returns: the running service, or None if tor is being recovered (the
          recovery publishes the new spec)

        :raises OnionServiceError: if tor refuses the new service
        :raises ControlError: if the control connection fails
        """
        with self._lock:
            self._specs[spec.name] = spec
            controller = self._controller
            if controller is None:
                return None
            previous = self._services.get(spec.name)
            key = spec.key or self._keystore.get(spec.name) or (
                previous.key if previous is not None else None)
            if previous is not None:
                remove_service(controller, previous.service_id, missing_ok=True)
            service = add_service(controller, replace(spec, key=key), self._on_warning)
            if service.key != self._keystore.get(spec.name):
                self._keystore.put(spec.name, service.key)
            if previous is not None:
                cut_connections(controller, previous.service_id)
            self._services[spec.name] = service
            return service

    def start(self) -> dict[str, OnionService]:
        """Open tor, publish every service, and start watching.

        :returns: the running services by name

        :raises TorConfigError: if tor cannot be opened or refuses a service;
          nothing is left running then (a launched tor is the source's to stop)
        """
        with self._lock:
            self._open()
        self._thread = threading.Thread(target=self._run, name="tor watchdog", daemon=True)
        self._thread.start()
        return self.services

    def _open(self) -> None:
        controller = self._source.open()
        try:
            self._services = publish(
                controller, self._specs.values(), self._keystore, self._on_warning
            )
            if self._on_controller is not None:
                self._on_controller(controller)
        except BaseException:
            controller.close()
            raise
        self._controller = controller

    def _emit(self, kind: str, detail: str) -> None:
        self._on_event(WatchdogEvent(kind, detail, datetime.date.today()))

    def _problem(self) -> str | None:
        """Return what is wrong with tor, or None if all is well."""
        controller = self._controller
        if controller is None:
            return "no connection to tor"
        if not self._source.is_running():
            return f"{self._source.describe()} exited"
        if not controller.is_alive():
            return f"control connection to {self._source.describe()} lost"
        try:
            listed = running_services(controller)
        except TorConfigError as exc:
            return str(exc)
        missing = sorted(s.name for s in self._services.values() if s.service_id not in listed)
        return f"tor no longer runs {', '.join(missing)}" if missing else None

    def check(self) -> bool:
        """Check tor once and recover if needed (the thread calls this).

        :returns: True if all was well or recovery succeeded, False if
          recovery failed (the next check tries again)
        """
        with self._lock:
            problem = self._problem()
            if problem is None:
                return True
            if self._controller is not None:
                self._emit("tor_lost", problem)
                with contextlib.suppress(stem.ControllerError, OSError):  # broken already
                    self._controller.close()
                self._controller = None
            try:
                self._open()
            except TorConfigError as exc:
                failure = f"{self._source.describe()}: {exc}"
                # Report a failure once, not on every retry while tor is down.
                if failure != self._last_failure:
                    self._emit("recovery_failed", failure)
                self._last_failure = failure
                return False
            self._last_failure = None
            self._emit("tor_reopened", self._source.describe())
            for service in self._services.values():
                self._emit("service_restored", f"{service.name} at {service.address}")
            return True

    def _run(self) -> None:
        try:
            while not self._stopping.wait(self._interval):
                self.check()
        except BaseException as exc:
            # A bug, not a tor failure: say so in the audit log, then let
            # threading's excepthook report the traceback.
            self._emit("watchdog_crashed", f"{type(exc).__name__}: {exc}")
            raise

    def stop(self, timeout: float = STOP_TIMEOUT, *, remove_services: bool = False) -> None:
        """Stop watching and close the control connection.

        The services stay with tor (they are detached) unless
        ``remove_services``: pass it when attached to an operator's tor, or
        the addresses stay published, pointing at nothing, until Haven's next
        start replaces them.  A launched tor is stopped by its
        :class:`~tor_config.process.LaunchedTor`, services and all.  Waits at
        most ``timeout`` seconds for a recovery in progress to finish.

        :raises ControlError: if ``remove_services`` and tor cannot be told
          (the connection is closed all the same)
        """
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout)
        with self._lock:
            controller, self._controller = self._controller, None
            if controller is None:
                return
            try:
                if remove_services:
                    for service in self._services.values():
                        remove_service(controller, service.service_id, missing_ok=True)
            finally:
                controller.close()
