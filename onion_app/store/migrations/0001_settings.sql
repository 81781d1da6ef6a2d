-- Installation-wide values Haven makes once and keeps: the requester KDF salt,
-- onion service keys. Small, rarely read, never content.
CREATE TABLE settings (
    name  TEXT PRIMARY KEY,
    value BLOB NOT NULL
) WITHOUT ROWID;
