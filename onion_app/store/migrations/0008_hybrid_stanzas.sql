-- Hybrid X25519 + ML-KEM-768 stanzas (issue 17). A stanza's first byte is its
-- format (1: X25519 sealed box; 2: hybrid, see crypto/FORMAT.md); the same
-- number is kept here, beside each stanza, so that an operator or auditor can
-- count stanzas by format from a small integer column without reading blobs,
-- and the CHECK keeps the column honest: it must equal the stanza's first byte.
-- Existing stanzas are all format 1, which is the default.
ALTER TABLE request_readers ADD COLUMN stanza_format INTEGER NOT NULL DEFAULT 1
    CHECK (stanza_format IN (1, 2) AND hex(substr(stanza, 1, 1)) = printf('%02X', stanza_format));
ALTER TABLE message_readers ADD COLUMN stanza_format INTEGER NOT NULL DEFAULT 1
    CHECK (stanza_format IN (1, 2) AND hex(substr(stanza, 1, 1)) = printf('%02X', stanza_format));

-- A volunteer's ML-KEM-768 public key (1,184 bytes), beside the X25519 one in
-- public_key. NULL: not yet upgraded (a web volunteer gains one at their next
-- sign-in; an offline volunteer when they give a haven-pk2 key); such a
-- volunteer is sealed to with format-1 stanzas until then.
ALTER TABLE volunteers ADD COLUMN mlkem_public_key BLOB
    CHECK (mlkem_public_key IS NULL OR length(mlkem_public_key) = 1184);

-- A request's requester ML-KEM-768 public key: present exactly when the
-- request's key is derived under request-key version 2, whose X25519 half is
-- version 1's (so requester_key does not change when a request is upgraded).
ALTER TABLE requests ADD COLUMN requester_mlkem_key BLOB
    CHECK ((requester_mlkem_key IS NOT NULL) = (coalesce(requester_key_version, 0) = 2)
           AND (requester_mlkem_key IS NULL OR length(requester_mlkem_key) = 1184));
