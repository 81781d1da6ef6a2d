-- Every request reaches someone who can help (issue 13), and matching in SQL
-- (issue 16). Numbered after 0012, which rebuilds request_readers: a column
-- added to it before that rebuild would be dropped by it.

-- A volunteer who offered to triage: reads requests that nobody else
-- matches, and passes them on. The operator sees the offer when vetting.
ALTER TABLE volunteers ADD COLUMN triage INTEGER NOT NULL DEFAULT 0 CHECK (triage IN (0, 1));
-- A reader sealed to for triage, not because they match: shown "for triage"
-- on their dashboard, and not counted among the request's matched helpers.
ALTER TABLE request_readers ADD COLUMN for_triage INTEGER NOT NULL DEFAULT 0
    CHECK (for_triage IN (0, 1));

-- Open claims per volunteer, kept by the triggers below, so that matching can
-- walk volunteers in rank order on an index and stop after the first few
-- (LIMIT k) instead of counting every candidate's claims.
ALTER TABLE volunteers ADD COLUMN open_claims INTEGER NOT NULL DEFAULT 0;
UPDATE volunteers SET open_claims = (SELECT count(*) FROM requests r
                                      WHERE r.claimed_by = volunteers.id AND r.status = 'open');
CREATE TRIGGER requests_claims_insert AFTER INSERT ON requests
WHEN NEW.claimed_by IS NOT NULL AND NEW.status = 'open'
BEGIN UPDATE volunteers SET open_claims = open_claims + 1 WHERE id = NEW.claimed_by; END;
CREATE TRIGGER requests_claims_update AFTER UPDATE OF claimed_by, status ON requests
BEGIN
    UPDATE volunteers SET open_claims = open_claims - 1
     WHERE id = OLD.claimed_by AND OLD.status = 'open';
    UPDATE volunteers SET open_claims = open_claims + 1
     WHERE id = NEW.claimed_by AND NEW.status = 'open';
END;
CREATE TRIGGER requests_claims_delete AFTER DELETE ON requests
WHEN OLD.claimed_by IS NOT NULL AND OLD.status = 'open'
BEGIN UPDATE volunteers SET open_claims = open_claims - 1 WHERE id = OLD.claimed_by; END;

-- The matching walk: vetted and available first (equalities), then the
-- load-spreading order itself.
CREATE INDEX volunteers_by_rank
    ON volunteers (status, available, open_claims, last_active_on, id);
CREATE INDEX volunteer_languages_by_language ON volunteer_languages (language, volunteer_id);
CREATE INDEX volunteers_triage ON volunteers (status, available) WHERE triage = 1;

-- Widening at any reader's sign-in. The pool of matchable volunteers has a
-- version that moves whenever someone may have become matchable, or a reader
-- went; a request remembers the version it was last matched against, so a
-- sign-in looks only at requests for which something changed since.
CREATE TABLE matching_pool (
    id      INTEGER PRIMARY KEY CHECK (id = 1),
    version INTEGER NOT NULL
);
INSERT INTO matching_pool (id, version) VALUES (1, 1);
CREATE TRIGGER pool_volunteer_changed AFTER UPDATE OF status, available, triage ON volunteers
BEGIN UPDATE matching_pool SET version = version + 1; END;
CREATE TRIGGER pool_volunteer_gone AFTER DELETE ON volunteers
BEGIN UPDATE matching_pool SET version = version + 1; END;
CREATE TRIGGER pool_skill_added AFTER INSERT ON volunteer_skills
BEGIN UPDATE matching_pool SET version = version + 1; END;
CREATE TRIGGER pool_language_added AFTER INSERT ON volunteer_languages
BEGIN UPDATE matching_pool SET version = version + 1; END;

-- matched_pool: the pool version a request was last matched against (0:
-- never, so every open request is looked at once). widened_on: the day the
-- period before widening past the match limit starts again (a day, never a time).
ALTER TABLE requests ADD COLUMN matched_pool INTEGER NOT NULL DEFAULT 0;
ALTER TABLE requests ADD COLUMN widened_on TEXT;
UPDATE requests SET widened_on = created_on;
CREATE INDEX requests_to_rematch ON requests (status, claimed_by, matched_pool);
CREATE INDEX requests_to_widen ON requests (status, claimed_by, widened_on);
