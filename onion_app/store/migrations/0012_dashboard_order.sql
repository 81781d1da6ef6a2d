-- Fast at 100,000 requests (issue 16): reader tables that store stanzas in
-- their own pages, and the volunteer dashboard read in display order (urgent
-- first, then newest) from one index.

-- 1. request_readers and message_readers become ordinary (rowid) tables with
-- the same columns, keys and constraints. As WITHOUT ROWID tables, a row
-- holding a hybrid stanza (1,169 bytes) passed the ~1,000 bytes such a table
-- keeps in a 4 KiB page, so every stanza spilled into an overflow page of its
-- own: three times the disk, and ten times the time to insert. The primary
-- keys stay, as unique indexes.
--
-- A request reader row also carries its request's priority: 2 for an open
-- request at risk of life or liberty, 1 for an open urgent one, 0 otherwise
-- (a resolved or closed request no longer jumps the queue).
CREATE TABLE request_readers_new (
    request_id    INTEGER NOT NULL REFERENCES requests (id) ON DELETE CASCADE,
    fingerprint   TEXT NOT NULL,
    volunteer_id  INTEGER REFERENCES volunteers (id) ON DELETE CASCADE,
    stanza        BLOB NOT NULL,
    stanza_format INTEGER NOT NULL DEFAULT 1
        CHECK (stanza_format IN (1, 2) AND hex(substr(stanza, 1, 1)) = printf('%02X', stanza_format)),
    priority      INTEGER NOT NULL DEFAULT 0 CHECK (priority IN (0, 1, 2)),
    PRIMARY KEY (request_id, fingerprint)
);
INSERT INTO request_readers_new
       (request_id, fingerprint, volunteer_id, stanza, stanza_format, priority)
SELECT rr.request_id, rr.fingerprint, rr.volunteer_id, rr.stanza, rr.stanza_format,
       CASE WHEN r.status != 'open' THEN 0
            WHEN r.urgency = 'critical' THEN 2 WHEN r.urgency = 'urgent' THEN 1 ELSE 0 END
  FROM request_readers rr JOIN requests r ON r.id = rr.request_id;
DROP TABLE request_readers;
ALTER TABLE request_readers_new RENAME TO request_readers;
CREATE INDEX request_readers_by_volunteer ON request_readers (volunteer_id, request_id);
CREATE INDEX request_readers_requester_keys ON request_readers (fingerprint)
 WHERE volunteer_id IS NULL;

CREATE TABLE message_readers_new (
    message_id    INTEGER NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    fingerprint   TEXT NOT NULL,
    stanza        BLOB NOT NULL,
    volunteer_id  INTEGER REFERENCES volunteers (id) ON DELETE CASCADE,
    stanza_format INTEGER NOT NULL DEFAULT 1
        CHECK (stanza_format IN (1, 2) AND hex(substr(stanza, 1, 1)) = printf('%02X', stanza_format)),
    PRIMARY KEY (message_id, fingerprint)
);
INSERT INTO message_readers_new (message_id, fingerprint, stanza, volunteer_id, stanza_format)
SELECT message_id, fingerprint, stanza, volunteer_id, stanza_format FROM message_readers;
DROP TABLE message_readers;
ALTER TABLE message_readers_new RENAME TO message_readers;
CREATE INDEX message_readers_by_volunteer ON message_readers (volunteer_id);

-- 2. The triggers keep the priority, whoever inserts readers or changes a
-- request; rows of normal requests keep the default and are never rewritten.
CREATE TRIGGER request_readers_priority AFTER INSERT ON request_readers
WHEN (SELECT status = 'open' AND urgency != 'normal' FROM requests WHERE id = NEW.request_id)
BEGIN
    UPDATE request_readers SET priority = (
        SELECT CASE urgency WHEN 'critical' THEN 2 ELSE 1 END FROM requests
         WHERE id = NEW.request_id)
     WHERE request_id = NEW.request_id AND fingerprint = NEW.fingerprint;
END;

CREATE TRIGGER requests_priority AFTER UPDATE OF status, urgency ON requests
WHEN (OLD.status = 'open' AND OLD.urgency != 'normal') OR (NEW.status = 'open' AND NEW.urgency != 'normal')
BEGIN
    UPDATE request_readers SET priority =
        CASE WHEN NEW.status != 'open' THEN 0
             WHEN NEW.urgency = 'critical' THEN 2 WHEN NEW.urgency = 'urgent' THEN 1 ELSE 0 END
     WHERE request_id = NEW.id;
END;

-- 3. The dashboard's walk: one volunteer's rows in display order. Its count
-- (no filter) reads this index alone, without touching requests.
CREATE INDEX request_readers_dashboard
    ON request_readers (volunteer_id, priority DESC, request_id DESC);
