-- Volunteer accounts, operators, moderation and the audit log.
-- Login state that needs times (failure backoff, the last TOTP step) lives in
-- the server's memory, not here: the database keeps days, never times.

ALTER TABLE volunteers ADD COLUMN wrapped_key BLOB;           -- NULL: offline-only volunteer
ALTER TABLE volunteers ADD COLUMN passphrase_hash BLOB NOT NULL DEFAULT x'';
ALTER TABLE volunteers ADD COLUMN totp_secret TEXT;            -- NULL until enrolled
ALTER TABLE volunteers ADD COLUMN totp_confirmed INTEGER NOT NULL DEFAULT 0;
ALTER TABLE volunteers ADD COLUMN is_operator INTEGER NOT NULL DEFAULT 0;
ALTER TABLE volunteers ADD COLUMN availability TEXT NOT NULL DEFAULT 'weekly';
ALTER TABLE volunteers ADD COLUMN bio TEXT NOT NULL DEFAULT '';
ALTER TABLE volunteers ADD COLUMN references_text TEXT NOT NULL DEFAULT '';
ALTER TABLE volunteers ADD COLUMN vetting_note TEXT NOT NULL DEFAULT '';

-- What each volunteer has read of each thread, for unread counts.
CREATE TABLE volunteer_seen (
    volunteer_id    INTEGER NOT NULL REFERENCES volunteers (id) ON DELETE CASCADE,
    request_id      INTEGER NOT NULL REFERENCES requests (id) ON DELETE CASCADE,
    last_message_id INTEGER NOT NULL,
    PRIMARY KEY (volunteer_id, request_id)
) WITHOUT ROWID;

CREATE TABLE request_flags (
    request_id   INTEGER NOT NULL REFERENCES requests (id) ON DELETE CASCADE,
    volunteer_id INTEGER REFERENCES volunteers (id) ON DELETE SET NULL,
    reason       TEXT NOT NULL CHECK (reason IN ('spam', 'abuse', 'other')),
    created_on   TEXT NOT NULL
);
CREATE INDEX request_flags_by_request ON request_flags (request_id);

-- Who did what to which object, on which day. Never content. The app only
-- ever inserts here.
CREATE TABLE audit_log (
    id       INTEGER PRIMARY KEY,
    day      TEXT NOT NULL,
    actor    TEXT NOT NULL,     -- a handle, or 'system' / 'cli'
    action   TEXT NOT NULL,
    object   TEXT NOT NULL DEFAULT ''
);
CREATE TRIGGER audit_log_append_only_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;

CREATE INDEX requests_by_updated ON requests (updated_on);
CREATE TRIGGER audit_log_append_only_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
