-- Each request's own requester key (issue 11). Sealing every request to the
-- account's one key showed that key on every case page, so volunteers on two
-- requests could tell they came from one person. Now each request is sealed to
-- a key pair derived from the codename and the request's public id; only its
-- public half is stored, here, with the version of the derivation that made it
-- (the private half is derived again from the codename at login).
--
-- NULL in both: a request made before this migration, sealed to the account
-- key (requesters.public_key); it keeps opening with that key.
ALTER TABLE requests ADD COLUMN requester_key BLOB;
ALTER TABLE requests ADD COLUMN requester_key_version INTEGER
    CHECK ((requester_key IS NULL) = (requester_key_version IS NULL));
