-- The volunteer dashboard, flat at 100,000 requests (issue 16): urgent first,
-- then newest, read in that order from one index, so a page costs 25 rows
-- whatever a volunteer reads in all.
--
-- A reader row carries its request's priority: 2 for an open request at risk
-- of life or liberty, 1 for an open urgent one, 0 otherwise (a resolved or
-- closed request no longer jumps the queue). The triggers below keep it,
-- whoever inserts readers or changes a request; rows of normal requests keep
-- the default and are never rewritten.
ALTER TABLE request_readers ADD COLUMN priority INTEGER NOT NULL DEFAULT 0
    CHECK (priority IN (0, 1, 2));

UPDATE request_readers SET priority = (
    SELECT CASE WHEN r.status != 'open' THEN 0
                WHEN r.urgency = 'critical' THEN 2 WHEN r.urgency = 'urgent' THEN 1 ELSE 0 END
      FROM requests r WHERE r.id = request_readers.request_id)
 WHERE request_id IN (SELECT id FROM requests WHERE status = 'open' AND urgency != 'normal');

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

-- The dashboard's walk: one volunteer's rows in display order. Its count
-- (no filter) reads this index alone, without touching requests.
CREATE INDEX request_readers_dashboard
    ON request_readers (volunteer_id, priority DESC, request_id DESC);
