"""What an app holds while it serves, as one typed object instead of string keys.

:class:`Runtime` is made once per process and shared by both apps: the
database handle (one key derivation per process) and the bound on key
derivations (one bound for the whole process, not one per app).
:class:`AppState` is one app's own state: its sessions, its limits, the
endpoints open to anonymous visitors. Views reach both through :func:`state`.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass, field

from flask import Flask, current_app, g

from onion_app.config import Config
from onion_app.domain.kdf_gate import KdfGate
from onion_app.domain.key_proof import PendingProofs
from onion_app.domain.totp import CodeChecker
from onion_app.domain.volunteer_keys import DummyVerifier, Stretching
from onion_app.store import Connection, Database
from onion_app.web.limits import AccountWindow, TokenBucket
from onion_app.web.sessions import SessionRegistry, SessionStore
from onion_app.web.throttle import LoginThrottle

_KEY = "haven"


@dataclass(frozen=True)
class Runtime:
    """What one Haven process holds once, whichever app is asking."""

    database: Database
    kdf_gate: KdfGate
    # Made once per process, in the gate (not per unknown-handle login).
    dummy_verifier: DummyVerifier = field(default_factory=DummyVerifier)
    # Every app's sessions, for whoever ends an account outside that app's
    # requests: the retention purge, or deletion and suspension.
    sessions: SessionRegistry = field(default_factory=SessionRegistry)
    # Today's date for decisions that count days (widening after N days);
    # tests pass a clock of their own.
    today: Callable[[], datetime.date] = datetime.date.today

    @classmethod
    def for_config(cls, config: Config, *, memory_locked: bool = False) -> Runtime:
        """A database handle and a derivation bound for ``config``; derives nothing yet.

        :param memory_locked: the whole process is kept out of swap
            (:func:`onion_app.serving.memory.guard_process`), so SQLCipher
            need not lock and wipe its own allocations
        """
        gate = KdfGate(config.kdf_concurrency)
        # The database key is derived once, before anyone is served: it waits
        # for a slot rather than being refused, and still counts in the bound.
        return cls(Database(config, kdf_slot=gate.waiting_slot,
                            memory_security=not memory_locked), gate)

    @property
    def config(self) -> Config:
        return self.database.config

    @property
    def stretching(self) -> Stretching:
        """Argon2id for volunteer keys: this installation's cost, the process's bound."""
        return Stretching(self.config.kdf_params, self.kdf_gate, self.dummy_verifier)


@dataclass
class AppState:
    """One app's state for the life of the process."""

    role: str
    config: Config
    runtime: Runtime
    sessions: SessionStore
    idle_minutes: int
    lifetime_minutes: int
    open_endpoints: frozenset[str]
    login_endpoint: str
    # The public app's bounds on new requests (site-wide, and per codename)
    # and on new codenames; see web.limits.
    submissions: TokenBucket
    codenames: TokenBucket
    requests_per_codename: AccountWindow
    # The staff app's login throttle and spent TOTP codes.
    throttle: LoginThrottle = field(default_factory=LoginThrottle)
    codes: CodeChecker = field(default_factory=CodeChecker)
    # Offline applications waiting for the proof that the key is the applicant's.
    key_proofs: PendingProofs = field(default_factory=PendingProofs)

    @property
    def database(self) -> Database:
        return self.runtime.database

    @property
    def kdf_gate(self) -> KdfGate:
        return self.runtime.kdf_gate

    @property
    def stretching(self) -> Stretching:
        return self.runtime.stretching


def attach(app: Flask, app_state: AppState) -> None:
    """Gives ``app`` its state, and the teardown that ends a request's transaction."""
    app.extensions[_KEY] = app_state
    app_state.runtime.sessions.register(app_state.sessions)
    app.teardown_appcontext(_close_db)


def state_of(app: Flask) -> AppState:
    """The state of ``app`` (for the server that runs it, and the tests)."""
    found: AppState = app.extensions[_KEY]
    return found


def state() -> AppState:
    """The state of the app handling this request."""
    return state_of(current_app)


def current_config() -> Config:
    """The configuration of the app handling this request or CLI command."""
    return state().config


def get_db() -> Connection:
    """The request's connection: this server thread's kept one, whose open
    transaction, if any, is rolled back at teardown (flaskr's ``get_db``,
    over the process's one database handle; see ``store/database.py``).

    :raises StoreError: with one plain sentence if the database will not open
    """
    if "db" not in g:
        g.db = state().database.thread_connection()
    conn: Connection = g.db
    return conn


def _close_db(_exc: BaseException | None = None) -> None:
    conn = g.pop("db", None)
    if conn is not None:
        state().database.release(conn)
