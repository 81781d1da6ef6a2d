-- Tor client-authorization keys for the staff onion: one per device. Only the
-- public half is kept; the private half was shown once, to the operator.
CREATE TABLE staff_clients (
    name        TEXT PRIMARY KEY,
    public_key  TEXT NOT NULL UNIQUE,  -- base32 x25519, as tor takes it
    added_on    TEXT NOT NULL
) WITHOUT ROWID;
