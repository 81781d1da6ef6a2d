-- Requesters, their requests and threads, and the volunteers matching reads.
--
-- Shape for SQLCipher (DESIGN §3): every list query touches only the small
-- metadata tables and their indexes; ciphertext lives in *_bodies and
-- *_readers tables keyed by the row it belongs to, read one row at a time.
-- Dates are days (YYYY-MM-DD), never times.

CREATE TABLE requesters (
    id          INTEGER PRIMARY KEY,
    lookup_id   BLOB NOT NULL UNIQUE,   -- from the codename KDF; no codename is stored
    public_key  BLOB NOT NULL,
    created_on  TEXT NOT NULL
);

CREATE TABLE volunteers (
    id              INTEGER PRIMARY KEY,
    public_id       TEXT NOT NULL UNIQUE,
    handle          TEXT NOT NULL UNIQUE,
    public_key      BLOB NOT NULL,
    status          TEXT NOT NULL DEFAULT 'applied'
                    CHECK (status IN ('applied', 'vetted', 'rejected', 'suspended')),
    available       INTEGER NOT NULL DEFAULT 1,
    created_on      TEXT NOT NULL,
    last_active_on  TEXT NOT NULL
);
CREATE INDEX volunteers_matchable ON volunteers (status, available);

CREATE TABLE volunteer_skills (
    volunteer_id INTEGER NOT NULL REFERENCES volunteers (id) ON DELETE CASCADE,
    skill        TEXT NOT NULL,
    PRIMARY KEY (volunteer_id, skill)
) WITHOUT ROWID;
CREATE INDEX volunteer_skills_by_skill ON volunteer_skills (skill, volunteer_id);

CREATE TABLE volunteer_languages (
    volunteer_id INTEGER NOT NULL REFERENCES volunteers (id) ON DELETE CASCADE,
    language     TEXT NOT NULL,
    PRIMARY KEY (volunteer_id, language)
) WITHOUT ROWID;

CREATE TABLE requests (
    id            INTEGER PRIMARY KEY,
    public_id     TEXT NOT NULL UNIQUE,  -- random, what URLs carry
    requester_id  INTEGER NOT NULL REFERENCES requesters (id) ON DELETE CASCADE,
    status        TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'resolved', 'closed')),
    urgency       TEXT NOT NULL CHECK (urgency IN ('normal', 'urgent', 'critical')),
    region        TEXT NOT NULL,
    claimed_by    INTEGER REFERENCES volunteers (id) ON DELETE SET NULL,
    created_on    TEXT NOT NULL,
    updated_on    TEXT NOT NULL
);
CREATE INDEX requests_by_requester ON requests (requester_id, id);
CREATE INDEX requests_by_status ON requests (status, updated_on);
CREATE INDEX requests_by_claim ON requests (claimed_by, status);

CREATE TABLE request_skills (
    request_id INTEGER NOT NULL REFERENCES requests (id) ON DELETE CASCADE,
    skill      TEXT NOT NULL,
    PRIMARY KEY (request_id, skill)
) WITHOUT ROWID;

CREATE TABLE request_languages (
    request_id INTEGER NOT NULL REFERENCES requests (id) ON DELETE CASCADE,
    language   TEXT NOT NULL,
    PRIMARY KEY (request_id, language)
) WITHOUT ROWID;

CREATE TABLE request_bodies (
    request_id INTEGER PRIMARY KEY REFERENCES requests (id) ON DELETE CASCADE,
    body       BLOB NOT NULL
);

-- One sealed content key per reader. volunteer_id is NULL for the requester.
CREATE TABLE request_readers (
    request_id   INTEGER NOT NULL REFERENCES requests (id) ON DELETE CASCADE,
    fingerprint  TEXT NOT NULL,
    volunteer_id INTEGER REFERENCES volunteers (id) ON DELETE CASCADE,
    stanza       BLOB NOT NULL,
    PRIMARY KEY (request_id, fingerprint)
) WITHOUT ROWID;
CREATE INDEX request_readers_by_volunteer ON request_readers (volunteer_id, request_id);

CREATE TABLE messages (
    id                  INTEGER PRIMARY KEY,
    public_id           TEXT NOT NULL UNIQUE,
    request_id          INTEGER NOT NULL REFERENCES requests (id) ON DELETE CASCADE,
    author_volunteer_id INTEGER REFERENCES volunteers (id) ON DELETE SET NULL,
    from_requester      INTEGER NOT NULL,
    seen_by_requester   INTEGER NOT NULL DEFAULT 0,
    created_on          TEXT NOT NULL
);
CREATE INDEX messages_by_request ON messages (request_id, id);

CREATE TABLE message_bodies (
    message_id INTEGER PRIMARY KEY REFERENCES messages (id) ON DELETE CASCADE,
    body       BLOB NOT NULL
);

CREATE TABLE message_readers (
    message_id   INTEGER NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    fingerprint  TEXT NOT NULL,
    stanza       BLOB NOT NULL,
    PRIMARY KEY (message_id, fingerprint)
) WITHOUT ROWID;
