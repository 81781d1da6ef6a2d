"""Haven's configuration: one frozen dataclass, built once from the environment.

Everything has an embedded default, so an operator who sets nothing gets a
working Haven. Nothing below this module reads ``os.environ``: the factory and
the store are handed a :class:`Config`.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from urllib.parse import unquote, urlsplit

from crypto.errors import InvalidInput
from crypto.kdf import KdfParams
from onion_app.errors import ConfigError
from tor_config.errors import SocksError
from tor_config.socks import parse_socks_address

ROLES = ("public", "staff")

# A story of 20,000 Persian characters is about 40 KB of UTF-8 and three times
# that once a browser percent-encodes it; 1 MiB leaves room for that, the other
# fields and an uploaded reply bundle, and still stops a memory-filling body.
DEFAULT_MAX_CONTENT_LENGTH = 1024 * 1024


# Operator texts are shown on requester pages that must stay under 10 KB.
ABOUT_MAX = 600
EMERGENCY_MAX = 240


@dataclass(frozen=True)
class Config:
    """What a Haven process needs to know, validated once at start."""

    instance_path: Path
    db_passphrase: str | None = field(default=None, repr=False)
    secret_key: bytes | None = field(default=None, repr=False)
    host: str = "127.0.0.1"
    public_port: int = 8080
    staff_port: int = 8081
    max_content_length: int = DEFAULT_MAX_CONTENT_LENGTH
    # Matching and abuse limits (DESIGN §2, §5).
    match_limit: int = 10
    # Fewer matched readers than this, and a request also goes to triage
    # volunteers (at most triage_limit); unclaimed this many days, it is
    # shared past match_limit with the next best matches (issue 13).
    match_min: int = 1
    triage_limit: int = 3
    widen_after_days: int = 3
    open_requests_per_requester: int = 5
    messages_per_requester_per_day: int = 30
    submissions_per_hour: int = 120
    # New codenames site-wide, and new requests per codename in a day: what
    # one visitor's codenames can send must stay below submissions_per_hour
    # (README, Settings: 20 x 5 = 100 an hour < 120).
    codenames_per_hour: int = 20
    requests_per_codename_per_day: int = 5
    # Argon2id cost for a *new* installation's requester keys; an existing
    # installation keeps the cost it was created with, or every codename
    # would stop working.
    kdf_opslimit: int = 2
    kdf_memlimit_kib: int = 256 * 1024
    # How many key derivations may run at once: each holds kdf_memlimit_kib.
    kdf_concurrency: int = 2
    # Argon2id cost of the database passphrase for a *new* database file: the
    # cost is recorded in the file, so changing it never locks out an old one.
    # About 0.3 s once per process: a seized file costs that per guess.
    db_kdf_opslimit: int = 3
    db_kdf_memlimit_kib: int = 256 * 1024
    # SQLite's page cache of each server thread's connection, in KiB. Pages
    # hold metadata and sealed blobs, never clear content, and stay in this
    # process's memory (SQLCipher wipes them when freed).
    db_cache_kib: int = 8 * 1024
    requester_idle_minutes: int = 30
    requester_lifetime_minutes: int = 120
    volunteer_idle_minutes: int = 30
    volunteer_lifetime_minutes: int = 8 * 60
    # Files with a request or a reply (issue 15): how many, how large each,
    # and what the sandboxed metadata remover may use; 0 files turns them off.
    attachments_per_message: int = 3
    attachment_max_bytes: int = 10 * 1024 * 1024
    cleaner_concurrency: int = 2
    cleaner_memory_mib: int = 1024
    cleaner_seconds: int = 60
    # Bodies past max_content_length (forms with files) held at once.
    uploads_at_once: int = 4
    # Requests and threads untouched this many days are purged.
    retention_days: int = 90
    # An operator's running tor to attach to (control socket path or
    # host:port); unset means Haven launches its own tor.
    tor_control: str | None = None
    # Extra torrc lines for Haven's own tor, e.g. bridges where tor is
    # blocked: HAVEN_TOR_OPTIONS="UseBridges 1; Bridge obfs4 ...".
    tor_options: tuple[tuple[str, str], ...] = ()
    # Tor's onion-service proof-of-work queue (tor's own defaults).
    pow_queue_rate: int = 250
    pow_queue_burst: int = 2500
    # How long `python run.py` shows bootstrap progress before serving on.
    bootstrap_wait_seconds: int = 60
    # Operator-written text for the requester's pages (plain text, shown as
    # written): who runs this Haven and where its address is published, and
    # where to turn in an emergency. Empty means Haven's own default words.
    about: str = ""
    emergency: str = ""
    # Opt-in email digests (onion_app.domain.digests). No relay: nothing is sent.
    smtp_url: str | None = field(default=None, repr=False)
    # The relay on this host or network: skip tor (the relay learns our address).
    smtp_direct: bool = False
    smtp_from: str | None = None
    # The SOCKS listener mail goes through: "unix:/path" or "127.0.0.1:9050";
    # unset means the one Haven's own tor opens in instance/tor/socks.sock.
    smtp_socks: str | None = None
    notify_hour: int = 9
    # The tests turn this off only for the test client, never for a server.
    csrf_enabled: bool = True
    testing: bool = False

    @property
    def kdf_params(self) -> KdfParams:
        """Argon2id cost for new requester and volunteer keys."""
        return KdfParams(opslimit=self.kdf_opslimit, memlimit=self.kdf_memlimit_kib * 1024)

    @property
    def db_kdf_params(self) -> KdfParams:
        """Argon2id cost for a new database file's passphrase."""
        return KdfParams(opslimit=self.db_kdf_opslimit, memlimit=self.db_kdf_memlimit_kib * 1024)

    @property
    def max_request_body(self) -> int:
        """The largest body a form with files may send: the text's limit, the
        files, and room for multipart's part headers."""
        return (self.max_content_length
                + self.attachments_per_message * (self.attachment_max_bytes + 4096))

    @property
    def db_path(self) -> Path:
        return self.instance_path / "haven.db"

    @property
    def db_key_path(self) -> Path:
        return self.instance_path / "db.key"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Config:
        """Builds the configuration from ``HAVEN_*`` variables.

        :returns: a validated :class:`Config`
        :raises ConfigError: naming the variable that is wrong and why
        """
        env = os.environ if environ is None else environ
        secret = env.get("HAVEN_SECRET_KEY")
        config = cls(
            instance_path=Path(env.get("HAVEN_INSTANCE", "instance")).absolute(),
            db_passphrase=_db_passphrase(env),
            secret_key=secret.encode() if secret else None,
            host=env.get("HAVEN_HOST", "127.0.0.1"),
            public_port=_int(env, "HAVEN_PUBLIC_PORT", 8080),
            staff_port=_int(env, "HAVEN_STAFF_PORT", 8081),
            max_content_length=_int(env, "HAVEN_MAX_CONTENT_LENGTH", DEFAULT_MAX_CONTENT_LENGTH),
            match_limit=_int(env, "HAVEN_MATCH_LIMIT", 10),
            match_min=_int(env, "HAVEN_MATCH_MIN", 1),
            triage_limit=_int(env, "HAVEN_TRIAGE_LIMIT", 3),
            widen_after_days=_int(env, "HAVEN_WIDEN_AFTER_DAYS", 3),
            open_requests_per_requester=_int(env, "HAVEN_OPEN_REQUESTS_PER_CODENAME", 5),
            messages_per_requester_per_day=_int(env, "HAVEN_MESSAGES_PER_CODENAME_PER_DAY", 30),
            submissions_per_hour=_int(env, "HAVEN_SUBMISSIONS_PER_HOUR", 120),
            codenames_per_hour=_int(env, "HAVEN_CODENAMES_PER_HOUR", 20),
            requests_per_codename_per_day=_int(env, "HAVEN_REQUESTS_PER_CODENAME_PER_DAY", 5),
            kdf_opslimit=_int(env, "HAVEN_KDF_OPSLIMIT", 2),
            kdf_memlimit_kib=_int(env, "HAVEN_KDF_MEMLIMIT_KIB", 256 * 1024),
            kdf_concurrency=_int(env, "HAVEN_KDF_CONCURRENCY", 2),
            db_kdf_opslimit=_int(env, "HAVEN_DB_KDF_OPSLIMIT", 3),
            db_kdf_memlimit_kib=_int(env, "HAVEN_DB_KDF_MEMLIMIT_KIB", 256 * 1024),
            db_cache_kib=_int(env, "HAVEN_DB_CACHE_KIB", 8 * 1024),
            retention_days=_int(env, "HAVEN_RETENTION_DAYS", 90),
            attachments_per_message=_int(env, "HAVEN_ATTACHMENTS_PER_MESSAGE", 3),
            attachment_max_bytes=_int(env, "HAVEN_ATTACHMENT_MAX_BYTES", 10 * 1024 * 1024),
            cleaner_concurrency=_int(env, "HAVEN_CLEANER_CONCURRENCY", 2),
            cleaner_memory_mib=_int(env, "HAVEN_CLEANER_MEMORY_MIB", 1024),
            cleaner_seconds=_int(env, "HAVEN_CLEANER_SECONDS", 60),
            uploads_at_once=_int(env, "HAVEN_UPLOADS_AT_ONCE", 4),
            tor_control=env.get("HAVEN_TOR_CONTROL") or None,
            tor_options=_tor_options(env.get("HAVEN_TOR_OPTIONS", "")),
            pow_queue_rate=_int(env, "HAVEN_POW_QUEUE_RATE", 250),
            pow_queue_burst=_int(env, "HAVEN_POW_QUEUE_BURST", 2500),
            bootstrap_wait_seconds=_int(env, "HAVEN_BOOTSTRAP_WAIT", 60),
            about=env.get("HAVEN_ABOUT", "").strip(),
            emergency=env.get("HAVEN_EMERGENCY", "").strip(),
            smtp_url=env.get("HAVEN_SMTP_URL") or None,
            smtp_direct=env.get("HAVEN_SMTP_DIRECT", "") not in ("", "0"),
            smtp_from=env.get("HAVEN_SMTP_FROM") or None,
            smtp_socks=env.get("HAVEN_SMTP_SOCKS") or None,
            notify_hour=_int(env, "HAVEN_NOTIFY_HOUR", 9),
        )
        config.validate()
        return config

    def validate(self) -> None:
        """Refuses settings Haven cannot run with safely.

        :raises ConfigError: naming the setting and the reason
        """
        if self.host not in ("127.0.0.1", "::1", "localhost"):
            # Haven makes no connection of its own and is reached only through
            # tor on this machine; listening elsewhere would expose it.
            raise ConfigError("HAVEN_HOST must be a loopback address (127.0.0.1 or ::1)")
        for name, port in (("HAVEN_PUBLIC_PORT", self.public_port),
                           ("HAVEN_STAFF_PORT", self.staff_port)):
            if not 0 <= port <= 65535:
                raise ConfigError(f"{name} must be a port number from 0 to 65535")
        if self.public_port == self.staff_port and self.public_port != 0:
            raise ConfigError("HAVEN_PUBLIC_PORT and HAVEN_STAFF_PORT must differ")
        if self.max_content_length < 64 * 1024:
            raise ConfigError("HAVEN_MAX_CONTENT_LENGTH must be at least 65536 bytes")
        for name, value, low in (
            ("HAVEN_MATCH_LIMIT", self.match_limit, 1),
            ("HAVEN_MATCH_MIN", self.match_min, 0),
            ("HAVEN_TRIAGE_LIMIT", self.triage_limit, 0),
            ("HAVEN_WIDEN_AFTER_DAYS", self.widen_after_days, 1),
            ("HAVEN_OPEN_REQUESTS_PER_CODENAME", self.open_requests_per_requester, 1),
            ("HAVEN_MESSAGES_PER_CODENAME_PER_DAY", self.messages_per_requester_per_day, 1),
            ("HAVEN_SUBMISSIONS_PER_HOUR", self.submissions_per_hour, 1),
            ("HAVEN_CODENAMES_PER_HOUR", self.codenames_per_hour, 1),
            ("HAVEN_REQUESTS_PER_CODENAME_PER_DAY", self.requests_per_codename_per_day, 1),
            ("HAVEN_KDF_OPSLIMIT", self.kdf_opslimit, 1),
            ("HAVEN_KDF_CONCURRENCY", self.kdf_concurrency, 1),
            ("HAVEN_RETENTION_DAYS", self.retention_days, 1),
            ("HAVEN_POW_QUEUE_RATE", self.pow_queue_rate, 0),
            ("HAVEN_POW_QUEUE_BURST", self.pow_queue_burst, 0),
            ("HAVEN_BOOTSTRAP_WAIT", self.bootstrap_wait_seconds, 0),
            ("HAVEN_KDF_MEMLIMIT_KIB", self.kdf_memlimit_kib, 8),
            ("HAVEN_DB_KDF_OPSLIMIT", self.db_kdf_opslimit, 1),
            ("HAVEN_DB_KDF_MEMLIMIT_KIB", self.db_kdf_memlimit_kib, 8),
            ("HAVEN_ATTACHMENTS_PER_MESSAGE", self.attachments_per_message, 0),
            ("HAVEN_ATTACHMENT_MAX_BYTES", self.attachment_max_bytes, 1024),
            ("HAVEN_CLEANER_CONCURRENCY", self.cleaner_concurrency, 1),
            ("HAVEN_CLEANER_MEMORY_MIB", self.cleaner_memory_mib, 64),
            ("HAVEN_CLEANER_SECONDS", self.cleaner_seconds, 1),
            ("HAVEN_UPLOADS_AT_ONCE", self.uploads_at_once, 1),
            ("HAVEN_DB_CACHE_KIB", self.db_cache_kib, 64),
        ):
            if value < low:
                raise ConfigError(f"{name} must be at least {low}")
        for name, opslimit, memlimit_kib in (
            ("HAVEN_KDF", self.kdf_opslimit, self.kdf_memlimit_kib),
            ("HAVEN_DB_KDF", self.db_kdf_opslimit, self.db_kdf_memlimit_kib),
        ):
            try:
                KdfParams(opslimit=opslimit, memlimit=memlimit_kib * 1024)
            except InvalidInput as error:
                raise ConfigError(f"{name}_OPSLIMIT/_MEMLIMIT_KIB: {error}") from None
        for name, text, most in (("HAVEN_ABOUT", self.about, ABOUT_MAX),
                                 ("HAVEN_EMERGENCY", self.emergency, EMERGENCY_MAX)):
            if len(text) > most:
                raise ConfigError(f"{name} must be at most {most} characters")
        # A file's bucket is the next power of two: 64 MiB files fill 128 MiB.
        if self.attachments_per_message > 10 or self.attachment_max_bytes > 64 * 1024 * 1024:
            raise ConfigError("HAVEN_ATTACHMENTS_PER_MESSAGE is at most 10 and "
                              "HAVEN_ATTACHMENT_MAX_BYTES at most 67108864 (64 MiB)")
        if self.db_passphrase is not None and len(self.db_passphrase) < 12:
            raise ConfigError("HAVEN_DB_PASSPHRASE must be at least 12 characters")
        if self.secret_key is not None and len(self.secret_key) < 32:
            raise ConfigError("HAVEN_SECRET_KEY must be at least 32 characters")
        if not 0 <= self.notify_hour <= 23:
            raise ConfigError("HAVEN_NOTIFY_HOUR must be an hour from 0 to 23")
        if self.smtp_url is not None:
            Relay.parse(self.smtp_url, self.smtp_from)
        if self.smtp_socks is not None:
            try:
                parse_socks_address(self.smtp_socks)
            except SocksError as error:
                raise ConfigError(f"HAVEN_SMTP_SOCKS: {error}") from None

    @property
    def relay(self) -> Relay | None:
        """The mail relay ``HAVEN_SMTP_URL`` names, or None when none is set.

        :raises ConfigError: if the URL or the sender address is unusable (the
          message never repeats the URL: it may hold a password)
        """
        if self.smtp_url is None:
            return None
        return Relay.parse(self.smtp_url, self.smtp_from)

    def with_changes(self, **changes: object) -> Config:
        """A copy with some fields changed, validated again."""
        config = replace(self, **changes)  # type: ignore[arg-type]
        config.validate()
        return config


@dataclass(frozen=True)
class Relay:
    """Where digests go: an SMTP relay reached with STARTTLS."""

    host: str
    port: int
    username: str | None = field(default=None, repr=False)
    password: str | None = field(default=None, repr=False)
    sender: str = ""

    @classmethod
    def parse(cls, url: str, sender: str | None) -> Relay:
        """:raises ConfigError: naming what is wrong, never repeating the URL"""
        parts = urlsplit(url)
        if parts.scheme != "smtp":
            raise ConfigError("HAVEN_SMTP_URL must look like smtp://user:password@host:587 "
                              "(STARTTLS)")
        try:
            port = parts.port or 587
        except ValueError:
            raise ConfigError("HAVEN_SMTP_URL has a port that is not a number") from None
        if not parts.hostname:
            raise ConfigError("HAVEN_SMTP_URL names no host")
        username = unquote(parts.username) if parts.username else None
        password = unquote(parts.password) if parts.password else None
        sender = sender or (username if username and "@" in username else None)
        if sender is None or not is_address(sender):
            raise ConfigError("set HAVEN_SMTP_FROM to the address digests come from "
                              "(the relay must accept it)")
        return cls(parts.hostname, port, username, password, sender)


# Plain addresses only: no display names, comments or line breaks, so an
# address can never carry a header of its own into a message.
_ADDRESS = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+")


def is_address(text: str) -> bool:
    """Whether ``text`` is a plain email address Haven will write to."""
    return len(text) <= 254 and _ADDRESS.fullmatch(text) is not None


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number") from None


# systemd hands a service its credentials (LoadCredential=,
# LoadCredentialEncrypted=, e.g. sealed to the TPM with systemd-creds) as files
# in a private in-memory folder named by $CREDENTIALS_DIRECTORY.
CREDENTIAL_NAME = "haven-db-passphrase"
# Far beyond any passphrase; a wrong path (a database, a device) is not read whole.
_PASSPHRASE_FILE_LIMIT = 4096


def _db_passphrase(env: Mapping[str, str]) -> str | None:
    """The database passphrase: from ``HAVEN_DB_PASSPHRASE``, from the file
    ``HAVEN_DB_PASSPHRASE_FILE`` names, or from systemd's credential
    ``haven-db-passphrase``, in that order; ``None`` when none is given.

    :raises ConfigError: if both variables are set, or the file cannot be
        read, is empty or is not UTF-8 (the message names the file, never
        what it holds)
    """
    given = env.get("HAVEN_DB_PASSPHRASE") or None
    named = env.get("HAVEN_DB_PASSPHRASE_FILE") or None
    if given is not None and named is not None:
        raise ConfigError("set HAVEN_DB_PASSPHRASE or HAVEN_DB_PASSPHRASE_FILE, not both")
    if given is not None:
        return given
    if named is not None:
        return _read_passphrase(Path(named), "HAVEN_DB_PASSPHRASE_FILE")
    credentials = env.get("CREDENTIALS_DIRECTORY")
    if credentials and (Path(credentials) / CREDENTIAL_NAME).exists():
        return _read_passphrase(Path(credentials) / CREDENTIAL_NAME,
                                f"the systemd credential {CREDENTIAL_NAME}")
    return None


def _read_passphrase(path: Path, what: str) -> str:
    try:
        with path.open("rb") as file:
            raw = file.read(_PASSPHRASE_FILE_LIMIT + 1)
    except OSError as error:
        raise ConfigError(f"{what}: cannot read {path}: {error.strerror}") from None
    if len(raw) > _PASSPHRASE_FILE_LIMIT:
        raise ConfigError(f"{what}: {path} is longer than a passphrase")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ConfigError(f"{what}: {path} is not UTF-8 text") from None
    # systemd-ask-password and `echo ... | systemd-creds encrypt` end with a
    # newline that is not part of the passphrase; spaces inside it are.
    passphrase = text.rstrip("\r\n")
    if not passphrase:
        raise ConfigError(f"{what}: {path} is empty")
    return passphrase


def _tor_options(text: str) -> tuple[tuple[str, str], ...]:
    options = []
    for entry in text.split(";"):
        name, _, value = entry.strip().partition(" ")
        if not name:
            continue
        if not name.isalnum() or not value.strip():
            raise ConfigError("HAVEN_TOR_OPTIONS takes 'Option value' pairs separated by ';'")
        options.append((name, value.strip()))
    return tuple(options)


def ensure_instance(config: Config) -> Path:
    """Creates the instance folder, readable by this user alone.

    :returns: the instance folder
    :raises ConfigError: if it exists but is not a folder, or cannot be made
    """
    path = config.instance_path
    if path.exists() and not path.is_dir():
        raise ConfigError(f"{path} exists and is not a folder")
    try:
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
        if path.stat().st_mode & 0o777 != 0o700:
            path.chmod(0o700)
    except OSError as error:
        # A read-only or full file system: one sentence, not a traceback.
        raise ConfigError(f"cannot use the instance folder {path}: "
                          f"{error.strerror or error}") from None
    return path
