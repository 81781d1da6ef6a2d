-- One person, one account: no two volunteers share a public key or a
-- look-alike handle, and no volunteer holds a requester's key (issue 11).

-- The TR39 skeleton of the handle (onion_app.domain.handles.skeleton). SQL
-- cannot compute it, so accounts made before this migration keep NULL and the
-- domain works theirs out when it checks a new handle.
ALTER TABLE volunteers ADD COLUMN handle_skeleton TEXT;
CREATE UNIQUE INDEX volunteers_by_skeleton ON volunteers (handle_skeleton);

-- A volunteer who registered somebody else's key (key squatting) takes over
-- that key's new matches; one holding a requester's key was recorded as a
-- reader in the requester's place. Such accounts made before this migration
-- are suspended (the earliest holder of a key keeps it) and the operators are
-- told in the audit log.
INSERT INTO audit_log (day, actor, action, object)
SELECT date('now'), 'system', 'suspended: public key shared with another account',
       'volunteer ' || v.handle
  FROM volunteers v
 WHERE v.status != 'suspended'
   AND (EXISTS (SELECT 1 FROM volunteers o WHERE o.public_key = v.public_key AND o.id < v.id)
        OR EXISTS (SELECT 1 FROM requesters r WHERE r.public_key = v.public_key));
UPDATE volunteers SET status = 'suspended', available = 0
 WHERE EXISTS (SELECT 1 FROM volunteers o
                WHERE o.public_key = volunteers.public_key AND o.id < volunteers.id)
    OR EXISTS (SELECT 1 FROM requesters r WHERE r.public_key = volunteers.public_key);

-- The requester's own stanza, recorded under a squatter's id, would go with
-- the squatter's account (ON DELETE CASCADE) and leave the request unreadable
-- to its requester: give it back to the requester.
UPDATE request_readers SET volunteer_id = NULL
 WHERE volunteer_id IS NOT NULL
   AND EXISTS (SELECT 1 FROM requests q
                 JOIN requesters r ON r.id = q.requester_id
                 JOIN volunteers v ON v.id = request_readers.volunteer_id
                WHERE q.id = request_readers.request_id AND v.public_key = r.public_key);

-- From now on a key is taken once. A trigger rather than a UNIQUE index,
-- because suspended duplicates from before stay in the table.
CREATE INDEX volunteers_by_public_key ON volunteers (public_key);
CREATE TRIGGER volunteers_public_key_once BEFORE INSERT ON volunteers
WHEN EXISTS (SELECT 1 FROM volunteers WHERE public_key = NEW.public_key)
  OR EXISTS (SELECT 1 FROM requesters WHERE public_key = NEW.public_key)
BEGIN SELECT RAISE(ABORT, 'public key in use'); END;
CREATE TRIGGER volunteers_public_key_kept BEFORE UPDATE OF public_key ON volunteers
BEGIN SELECT RAISE(ABORT, 'a volunteer''s public key never changes'); END;

-- Requester keys by fingerprint (a request's own key sits only in its reader
-- rows), so that checking a new volunteer key reads one small index instead
-- of every stanza.
CREATE INDEX request_readers_requester_keys ON request_readers (fingerprint)
 WHERE volunteer_id IS NULL;
