"""Haven's two onion services while the server runs: specs, watchdog, reload, status.

The glue between ``tor_config`` (which knows tor) and the store (which keeps
the keys): specs are built from the database on start and again on SIGHUP,
so ``python run.py staff-key``/``onion rotate`` take effect in a running
Haven; watchdog events go to the audit log; a status file (days, never
times) lets ``python run.py status`` report without a second controller.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from onion_app.config import Config
from onion_app.errors import HavenError
from onion_app.store import Database, onion_keys, staff
from onion_app.store.connection import DatabaseFailure, problem_of
from tor_config.bootstrap import BootstrapProgress, bootstrap_progress
from tor_config.control import AttachedTor, parse_control_address
from tor_config.errors import ControlError, TorConfigError
from tor_config.onion import OnionService, ServiceSpec, cut_connections, remove_service
from tor_config.pow import PowSettings
from tor_config.process import LaunchedTor, stop_orphan
from tor_config.status import DescriptorLog, TorStatus, tor_status
from tor_config.watchdog import Watchdog, WatchdogEvent

ROLES = ("public", "staff")
Say = Callable[[str], None]


def socket_path(config: Config, role: str) -> Path:
    """Where an app listens for tor: a unix socket (0600) in the instance folder."""
    return config.instance_path / f"{role}.sock"


def mail_through_own_tor(config: Config) -> bool:
    """Whether Haven's own tor must open its SOCKS socket: digests go through
    tor by default, unless they go direct or to a SOCKS listener of the
    operator's choosing."""
    return (config.smtp_url is not None and not config.smtp_direct
            and config.smtp_socks is None and config.tor_control is None)


def status_path(config: Config) -> Path:
    return config.instance_path / "tor-status.json"


@dataclass(frozen=True)
class StatusReport:
    """What the server last wrote about tor: its status, or why it has none."""

    status: TorStatus | None
    problem: str = ""

    @property
    def running(self) -> bool:
        """Whether the server could reach tor when it wrote this."""
        return self.status is not None


def save_status(config: Config, status: TorStatus | None, problem: str = "") -> None:
    """Writes the status file (0600, days only), replacing it in one step."""
    data = {"running": status is not None, "problem": problem,
            "status": status.to_json() if status is not None else None}
    path = status_path(config)
    partial = path.with_suffix(".partial")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(data, handle)
    os.replace(partial, path)


def read_status(config: Config) -> StatusReport | None:
    """The status the server last wrote, or None if there is none to read
    (not yet written, or cut short by a crash)."""
    try:
        data = json.loads(status_path(config).read_text(encoding="utf-8"))
        if not data["running"]:
            return StatusReport(None, str(data["problem"]))
        return StatusReport(TorStatus.from_json(data["status"]))
    except (OSError, ValueError, LookupError, TypeError):
        return None


# Connections one Tor circuit may hold open to the public onion at once. Tor
# Browser opens at most 6 to one site (Firefox's per-server limit) and keeps
# every Haven tab on one circuit, so 20 leaves room for connections still
# closing while new ones open, and a browser never meets it. A circuit that
# asks for more is torn down (MaxStreamsCloseCircuit): the client must build a
# new rendezvous, with its proof of work when the defence is active, so
# holding serve.CONNECTION_LIMIT connections open costs at least ten circuits.
PUBLIC_MAX_STREAMS = 20


def build_specs(database: Database) -> dict[str, ServiceSpec]:
    """Both services as the database describes them now.

    :raises StoreError: if the database cannot be opened
    """
    config = database.config
    with database.connect() as conn:
        client_keys = tuple(public for _, public, _ in onion_keys.clients(conn))
        keys = {role: onion_keys.service_key(conn, role) for role in ROLES}
    return {
        "public": ServiceSpec("public", f"unix:{socket_path(config, 'public')}",
                              key=keys["public"],
                              pow=PowSettings(config.pow_queue_rate, config.pow_queue_burst),
                              max_streams=PUBLIC_MAX_STREAMS, max_streams_close_circuit=True),
        "staff": ServiceSpec("staff", f"unix:{socket_path(config, 'staff')}",
                             key=keys["staff"], client_keys=client_keys),
    }


def audit_event(database: Database, action: str, detail: str = "") -> None:
    """Writes a tor event to the audit log from any thread (its own connection)."""
    with database.connect() as conn:
        staff.audit(conn, "system", action, detail)
        conn.commit()


class OnionServices:
    """Starts tor (or attaches), publishes both services, keeps them up."""

    def __init__(self, database: Database, say: Say) -> None:
        config = database.config
        self.database = database
        self.config = config
        self.say = say
        self.descriptors = DescriptorLog()
        if config.tor_control:
            self.source: AttachedTor | LaunchedTor = AttachedTor(
                parse_control_address(config.tor_control))
        else:
            extra: dict[str, list[str]] = {}
            for name, value in config.tor_options:
                extra.setdefault(name, []).append(value)
            self.source = LaunchedTor(config.instance_path / "tor", extra_options=extra,
                                      socks=mail_through_own_tor(config))
        self.specs = build_specs(database)
        self.watchdog = Watchdog(
            self.source, self.specs.values(), onion_keys.DatabaseKeyStore(database),
            self._on_event, on_controller=self.descriptors.attach, on_warning=self._warn)
        # Reentrant: reload() writes the status file while holding it, and
        # the status thread takes it for every write too.
        self._lock = threading.RLock()

    def start(self) -> dict[str, OnionService]:
        """Opens tor and publishes both services.

        :returns: the running services by role
        :raises TorConfigError: with a sentence for the operator
        :raises HavenError: if the staff onion would have no client keys
        """
        _refuse_open_staff(self.specs["staff"])
        if isinstance(self.source, LaunchedTor) and stop_orphan(self.source.directory):
            self.say("stopped a tor left running by an earlier Haven that did not exit cleanly")
        services = self.watchdog.start()
        self._adopt_new_keys(services)
        self._remove_retired()
        return services

    def _adopt_new_keys(self, services: dict[str, OnionService]) -> None:
        """A first start publishes a service with no stored key: tor makes
        one and the watchdog stores it. That key is the running service's,
        not a change, so it becomes the spec :meth:`reload` compares with;
        otherwise the start-up reload would re-publish the same address and
        cut every connection just made to it."""
        for role, service in services.items():
            spec = self.specs.get(role)
            if spec is not None and spec.key is None:
                self.specs[role] = replace(spec, key=service.key)

    def wait_for_bootstrap(self, timeout: float,
                           stop: threading.Event) -> BootstrapProgress | None:
        """Shows bootstrap progress until done, ``timeout`` or ``stop``.

        :returns: the last reading, or None if tor never answered (lost at once)
        """
        deadline = time.monotonic() + timeout
        last: BootstrapProgress | None = None
        lost = False
        while True:
            current = self._bootstrap_reading()
            if current is None:
                # Tor died (or its control connection did) while starting:
                # the watchdog relaunches it and re-adds both services with
                # their stored keys, as it does later; waiting goes on.
                if not lost:
                    self.say("tor stopped while starting; Haven is bringing it back "
                             "with the same addresses")
                lost = True
            else:
                if current != last:
                    self.say(f"tor: {current}")
                last, lost = current, False
            if (current is not None and current.done) or time.monotonic() >= deadline \
                    or stop.wait(0.5):
                return last

    def _bootstrap_reading(self) -> BootstrapProgress | None:
        """Tor's bootstrap phase now, or None while tor is lost or being recovered."""
        controller = self.watchdog.controller
        if controller is None:
            return None
        try:
            return bootstrap_progress(controller)
        except ControlError:
            return None

    def reload(self) -> None:
        """Applies what the CLI changed in the database: client keys, rotations."""
        with self._lock:
            fresh = build_specs(self.database)
            _refuse_open_staff(fresh["staff"])
            for role, spec in fresh.items():
                old = self.specs[role]
                if (spec.key, spec.client_keys) == (old.key, old.client_keys):
                    continue
                self.specs[role] = spec
                service = self.watchdog.replace_service(spec)
                if service is not None:
                    self.say(f"{role} onion service updated: {service.address}")
                    audit_event(self.database, f"tor: {role} service updated", service.address)
            self._remove_retired()
            self.write_status()

    def _remove_retired(self) -> None:
        """Takes rotated-away addresses out of tor (an attached tor keeps
        detached services across a Haven crash)."""
        controller = self.watchdog.controller
        if controller is None:
            return
        with self.database.connect() as conn:
            retired = onion_keys.retired(conn)
            for service_id in retired:
                remove_service(controller, service_id, missing_ok=True)
                cut_connections(controller, service_id)
            onion_keys.forget_retired(conn, retired)
            conn.commit()

    def status(self) -> TorStatus | None:
        controller = self.watchdog.controller
        if controller is None:
            return None
        return tor_status(controller, self.watchdog.services.values(), self.descriptors)

    def write_status(self) -> None:
        """Writes the status file for ``python run.py status`` (0600, days only)."""
        try:
            current = self.status()
        except TorConfigError as error:
            current = None
            problem = str(error)
        else:
            problem = ""
        with self._lock:
            save_status(self.config, current, problem)

    def stop(self) -> None:
        """Removes both services and stops a tor Haven launched; each step runs
        even if the one before failed (a dead tor cannot remove services)."""
        try:
            self.watchdog.stop(remove_services=True)
        except TorConfigError as error:
            self.say(f"could not remove the onion services from tor: {error}")
        finally:
            try:
                if isinstance(self.source, LaunchedTor):
                    self.source.stop()
            finally:
                status_path(self.config).unlink(missing_ok=True)

    def _on_event(self, event: WatchdogEvent) -> None:
        self.say(f"tor watchdog ({event.kind.replace('_', ' ')}): {event.detail}")
        try:
            audit_event(self.database, f"tor: {event.kind}", event.detail)
        except (HavenError, DatabaseFailure) as error:
            # A full disk or a held lock must not stop the watchdog healing tor.
            problem = problem_of(error, self.config.db_path)
            self.say(f"warning: the tor event is not in the audit log: {problem or error}")

    def _warn(self, message: str) -> None:
        self.say(f"warning: {message}")


def _refuse_open_staff(spec: ServiceSpec) -> None:
    if not spec.client_keys:
        raise HavenError("the staff onion has no client keys and would be open to anyone: "
                         "add one with .venv/bin/haven staff-key add NAME")
