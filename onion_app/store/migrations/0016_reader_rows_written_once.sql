-- A new reader's row is written once (issue 16). Two AFTER INSERT triggers
-- each rewrote every row just inserted: one to set its priority (0012), one
-- the day it was added (0014). A row holds a 1.2 KB hybrid stanza, and with
-- secure_delete each UPDATE zeroed and rewrote it: together about 0.4 ms a
-- reader, nearly half of storing a request sealed to eleven. The only
-- statement that adds readers (store/requests.py, _UPSERT_REQUEST_READER)
-- now sets both as it inserts. requests_priority stays: it follows a
-- request's status and urgency when they change.
DROP TRIGGER request_readers_priority;
DROP TRIGGER request_readers_added_on;
