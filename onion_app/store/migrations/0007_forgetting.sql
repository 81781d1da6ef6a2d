-- What a deleted volunteer or request leaves behind, and caps that count what
-- was sent (issue 11). Touches message_readers and audit_log only, and adds
-- two tables; requesters and volunteers keep their shape.

-- Message stanzas know their volunteer reader, so they go with the volunteer
-- (as request stanzas already do). NULL: the requester's own stanza.
ALTER TABLE message_readers
    ADD COLUMN volunteer_id INTEGER REFERENCES volunteers (id) ON DELETE CASCADE;
UPDATE message_readers SET volunteer_id = (
    SELECT rr.volunteer_id FROM request_readers rr JOIN messages m ON m.request_id = rr.request_id
     WHERE m.id = message_readers.message_id AND rr.fingerprint = message_readers.fingerprint);
-- Every message reader is a reader of its request; a stanza whose reader is
-- no longer one belonged to a volunteer deleted before this migration.
DELETE FROM message_readers WHERE NOT EXISTS (
    SELECT 1 FROM request_readers rr JOIN messages m ON m.request_id = rr.request_id
     WHERE m.id = message_readers.message_id AND rr.fingerprint = message_readers.fingerprint);
CREATE INDEX message_readers_by_volunteer ON message_readers (volunteer_id);

-- Messages a requester sent, per day: the daily cap counts these, so deleting
-- a request does not give its messages back. Only today's rows are kept (the
-- app deletes older ones as it writes): the table is a counter, not a history.
CREATE TABLE requester_sent (
    requester_id INTEGER NOT NULL REFERENCES requesters (id) ON DELETE CASCADE,
    day          TEXT NOT NULL,
    messages     INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (requester_id, day)
) WITHOUT ROWID;

-- The audit log names volunteers and requests by a random token that is
-- forgotten with them: while a volunteer exists the token shows their handle;
-- once they are deleted it matches nothing, and the line reads "a deleted
-- volunteer". The same goes for requests. Tokens are their own, not the
-- public ids URLs carry, so a browser history cannot be matched to the log.
CREATE TABLE audit_subjects (
    token        TEXT PRIMARY KEY,
    volunteer_id INTEGER UNIQUE REFERENCES volunteers (id) ON DELETE CASCADE,
    request_id   INTEGER UNIQUE REFERENCES requests (id) ON DELETE CASCADE,
    CHECK ((volunteer_id IS NULL) <> (request_id IS NULL))
) WITHOUT ROWID;

INSERT INTO audit_subjects (token, volunteer_id)
    SELECT lower(hex(randomblob(16))), id FROM volunteers;
INSERT INTO audit_subjects (token, request_id)
    SELECT lower(hex(randomblob(16))), id FROM requests;

CREATE TABLE audit_log_tokens (
    id        INTEGER PRIMARY KEY,
    day       TEXT NOT NULL,
    actor     TEXT NOT NULL,    -- 'system', 'cli', or a volunteer's audit token
    action    TEXT NOT NULL,
    volunteer TEXT,             -- the audit token of the volunteer acted on
    request   TEXT,             -- the audit token of the request acted on
    detail    TEXT NOT NULL DEFAULT ''  -- never a person or a request: a key's name, a count
);

-- The old lines, rewritten: a handle or request id becomes its token, or a
-- token that matches nothing when its volunteer or request is already gone.
-- Objects were 'volunteer <handle or id>', 'handle <handle>', 'request <id>'
-- and 'request <id> to <handle>'; anything else was a detail.
INSERT INTO audit_log_tokens (id, day, actor, action, volunteer, request, detail)
SELECT l.id, l.day,
       CASE WHEN l.actor IN ('system', 'cli') THEN l.actor
            ELSE coalesce((SELECT s.token FROM audit_subjects s JOIN volunteers v
                            ON v.id = s.volunteer_id WHERE v.handle = l.actor),
                          lower(hex(randomblob(16)))) END,
       l.action,
       CASE WHEN l.object LIKE 'volunteer %' OR l.object LIKE 'handle %'
                 OR l.object LIKE 'request % to %'
            THEN coalesce((SELECT s.token FROM audit_subjects s JOIN volunteers v
                            ON v.id = s.volunteer_id
                           WHERE v.handle = CASE
                                   WHEN l.object LIKE 'request % to %'
                                   THEN substr(l.object, instr(l.object, ' to ') + 4)
                                   ELSE substr(l.object, instr(l.object, ' ') + 1) END
                              OR (l.object LIKE 'volunteer %'
                                  AND CAST(v.id AS TEXT) = substr(l.object, 11))),
                          lower(hex(randomblob(16)))) END,
       CASE WHEN l.object LIKE 'request %'
            THEN coalesce((SELECT s.token FROM audit_subjects s JOIN requests r
                            ON r.id = s.request_id
                           WHERE r.public_id = substr(l.object, 9, 22)),
                          lower(hex(randomblob(16)))) END,
       CASE WHEN l.object LIKE 'volunteer %' OR l.object LIKE 'handle %'
                 OR l.object LIKE 'request %' THEN '' ELSE l.object END
  FROM audit_log l;

-- The old table goes whole (secure_delete zeroes its pages), triggers and all.
DROP TABLE audit_log;
ALTER TABLE audit_log_tokens RENAME TO audit_log;

CREATE TRIGGER audit_log_append_only_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER audit_log_append_only_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
