-- The dashboard filtered to resolved or closed requests, flat in the
-- requests a volunteer reads (issue 16). Those filters read each row's
-- request, so where they match few of a volunteer's requests (most are
-- open), a page and its count walked them all. A reader row now carries how
-- its request ended: NULL while it is open, 'resolved' or 'closed' after;
-- and a partial index holds the ended rows in display order. The rows of
-- open requests, which are most, are in no new index, so storing a new
-- request writes no more pages; a request's reader rows are rewritten once,
-- when it ends (and again if it is opened again).
ALTER TABLE request_readers ADD COLUMN ended TEXT CHECK (ended IN ('resolved', 'closed'));

UPDATE request_readers
   SET ended = (SELECT status FROM requests WHERE id = request_readers.request_id)
 WHERE request_id IN (SELECT id FROM requests WHERE status != 'open');

-- Priority is 0 for every ended request (0012): it is in the key so that the
-- dashboard's order, (priority, request id) newest first, is the index's.
CREATE INDEX request_readers_ended
    ON request_readers (volunteer_id, ended, priority DESC, request_id DESC)
 WHERE ended IS NOT NULL;

-- Whoever changes a request's status. A new reader row takes its request's
-- end as it is inserted (store/requests.py, _UPSERT_REQUEST_READER).
CREATE TRIGGER requests_ended AFTER UPDATE OF status ON requests
WHEN OLD.status IS NOT NEW.status
BEGIN
    UPDATE request_readers
       SET ended = CASE WHEN NEW.status = 'open' THEN NULL ELSE NEW.status END
     WHERE request_id = NEW.id;
END;
