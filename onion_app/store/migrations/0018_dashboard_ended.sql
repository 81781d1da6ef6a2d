-- The dashboard filtered to resolved or closed requests, flat in the
-- requests a volunteer reads (issue 16). Those filters read each row's
-- request, so where they match few of a volunteer's requests (most are
-- open), a page and its count walked them all. A reader row now carries how
-- its request ended: NULL while it is open, 'resolved' or 'closed' after;
-- and a partial index holds the volunteers' rows of ended requests in
-- display order. The rows of open requests, which are most, are in no new
-- index, so storing a new request writes no more pages.
ALTER TABLE request_readers ADD COLUMN ended TEXT CHECK (ended IN ('resolved', 'closed'));

UPDATE request_readers
   SET ended = (SELECT status FROM requests WHERE id = request_readers.request_id)
 WHERE request_id IN (SELECT id FROM requests WHERE status != 'open');

-- Priority is 0 for every ended request (0012): it is in the key so that the
-- dashboard's order, (priority, request id) newest first, is the index's.
CREATE INDEX request_readers_ended
    ON request_readers (volunteer_id, ended, priority DESC, request_id DESC)
 WHERE ended IS NOT NULL AND volunteer_id IS NOT NULL;

-- Whoever changes a request's status or urgency: one trigger writes both the
-- priority (as 0012's requests_priority did) and the end, so that a request
-- ending rewrites each of its reader rows, which hold 1.2 KB stanzas, once
-- (0016 says why that counts). A new reader row takes both as it is inserted
-- (store/requests.py, _UPSERT_REQUEST_READER).
DROP TRIGGER requests_priority;
CREATE TRIGGER requests_priority_and_end AFTER UPDATE OF status, urgency ON requests
WHEN OLD.status IS NOT NEW.status
  OR (OLD.status = 'open' AND OLD.urgency != 'normal')
  OR (NEW.status = 'open' AND NEW.urgency != 'normal')
BEGIN
    UPDATE request_readers
       SET priority = CASE WHEN NEW.status != 'open' THEN 0
                           WHEN NEW.urgency = 'critical' THEN 2
                           WHEN NEW.urgency = 'urgent' THEN 1 ELSE 0 END,
           ended = CASE WHEN NEW.status = 'open' THEN NULL ELSE NEW.status END
     WHERE request_id = NEW.id;
END;
