"""The exceptions Haven's web application raises, as a small typed tree.

Library code raises these; only views and CLI commands turn them into pages or
one plain sentence. Messages never carry a codename, passphrase or key.
"""

from __future__ import annotations


class HavenError(Exception):
    """Base of every error raised by ``onion_app``."""


class ConfigError(HavenError):
    """A setting in the environment is missing, malformed or unsafe."""


class StoreError(HavenError):
    """The database cannot be opened or used as asked."""


class WrongDatabaseKey(StoreError):
    """The key or passphrase given does not open the database file."""


class NotAHavenDatabase(StoreError):
    """The file opens (or is plain SQLite) but holds no Haven schema."""


class DatabaseMissing(StoreError):
    """No database file exists where one was expected."""


class DatabaseKeyMissing(StoreError):
    """A database exists but neither a key file nor a passphrase is there to open it."""


class SchemaTooNew(StoreError):
    """The database was written by a newer Haven than this one."""


class TargetExists(StoreError):
    """A backup or rekey would overwrite a file that already exists."""


class StoreBusy(StoreError):
    """Another writer held the database longer than Haven waits; nothing was written."""


class StoreUnwritable(StoreError):
    """The database cannot be written now; nothing was written. The message says why."""


class DiskFull(StoreUnwritable):
    """The disk that holds the database is full."""


class ReadOnlyStore(StoreUnwritable):
    """The database, its folder or its file system is read-only."""


class StoreIOError(StoreUnwritable):
    """The disk reported an error reading or writing the database."""


class AccountExists(StoreError):
    """An account with this lookup id or handle exists already."""


class HandleTaken(AccountExists):
    """A volunteer or operator handle is in use."""


class KeyTaken(AccountExists):
    """A public key offered for a new account is already a volunteer's or a requester's."""


class NoSuchDevice(StoreError):
    """No staff device has that name."""


class DeviceExists(StoreError):
    """A staff device with that name exists already."""


class LastDevice(StoreError):
    """Revoking this staff device would leave the staff onion open to anyone."""


class BadHandle(HavenError):
    """A new handle is malformed or mixes scripts; the message says why."""


class WeakPassphrase(HavenError):
    """A new passphrase is refused; the message says why, in the person's words."""
