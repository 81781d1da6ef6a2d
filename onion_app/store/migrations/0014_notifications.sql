-- Opt-in daily digests by email (issue 13, item 5). The address and the
-- OpenPGP key live here, inside the encrypted database, and go with the
-- volunteer (ON DELETE CASCADE). Only days are kept, never times.
CREATE TABLE volunteer_notifications (
    volunteer_id    INTEGER PRIMARY KEY REFERENCES volunteers (id) ON DELETE CASCADE,
    address         TEXT NOT NULL,
    choice          TEXT NOT NULL CHECK (choice IN ('daily', 'news')),
    pgp_key         TEXT,            -- armored public key; NULL: the mail is sent in clear
    pgp_fingerprint TEXT,
    counted_through TEXT NOT NULL,   -- the last day whose news a sent digest covered
    attempted_on    TEXT,            -- the last day a digest was tried (at most one a day)
    sent_on         TEXT,            -- the last day a digest reached the relay
    CHECK ((pgp_key IS NULL) = (pgp_fingerprint IS NULL))
);

-- The day each volunteer became a reader of a request, so that a digest can
-- count requests newly shared with them. A trigger rather than a value in the
-- INSERT, so that every path that adds a reader (submission, referral,
-- widening, triage) is counted without knowing about digests. An upgraded
-- stanza (ON CONFLICT ... DO UPDATE) keeps its first day. Readers from before
-- this migration keep NULL and are never counted as news.
ALTER TABLE request_readers ADD COLUMN added_on TEXT;
CREATE TRIGGER request_readers_added_on AFTER INSERT ON request_readers
WHEN NEW.added_on IS NULL AND NEW.volunteer_id IS NOT NULL
BEGIN
    UPDATE request_readers SET added_on = date('now', 'localtime')
     WHERE request_id = NEW.request_id AND fingerprint = NEW.fingerprint;
END;
CREATE INDEX request_readers_added ON request_readers (volunteer_id, added_on)
 WHERE added_on IS NOT NULL;
