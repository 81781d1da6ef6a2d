-- Attachments (issue 15). A file belongs to a request or to one message of
-- its thread and is sealed under a key derived from that envelope's content
-- key (crypto/FORMAT.md, "Attachment"): whoever reads the envelope reads its
-- files, so no stanza of their own is stored, and re-matching, referral and
-- widening cover them by adding the envelope's reader. Name, type and size are
-- inside the sealed data; the clear columns say only where a file belongs,
-- its place among that envelope's files, and its 22-byte header (version,
-- bucket, nonce prefix). Deleting the request or message deletes its files.
CREATE TABLE attachments (
    id          INTEGER PRIMARY KEY,
    public_id   TEXT NOT NULL UNIQUE,  -- random, what download URLs carry
    request_id  INTEGER NOT NULL REFERENCES requests (id) ON DELETE CASCADE,
    message_id  INTEGER REFERENCES messages (id) ON DELETE CASCADE,  -- NULL: the request's own
    position    INTEGER NOT NULL CHECK (position BETWEEN 0 AND 255),
    header      BLOB NOT NULL CHECK (length(header) = 22)
);
CREATE UNIQUE INDEX attachments_in_place ON attachments (request_id, coalesce(message_id, 0), position);
CREATE INDEX attachments_of_message ON attachments (message_id);

-- The sealed chunks, one row each (at most 64 KiB + 16), read one at a time.
CREATE TABLE attachment_chunks (
    attachment_id INTEGER NOT NULL REFERENCES attachments (id) ON DELETE CASCADE,
    seq           INTEGER NOT NULL,
    chunk         BLOB NOT NULL,
    PRIMARY KEY (attachment_id, seq)
);
