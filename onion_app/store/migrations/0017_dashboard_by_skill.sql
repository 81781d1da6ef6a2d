-- The dashboard filtered by skill, flat in the requests a volunteer reads
-- (issue 16). Filtering walked the volunteer's rows in display order and
-- looked up each request's skills, so a filter that matches few of them, and
-- its count, read every row: 167 ms for 7,200. SQLite indexes one table at a
-- time, so this table holds what the filter needs in display order: one row
-- per volunteer reader and skill of the request, with the reader row's
-- priority. It says nothing the reader and skill rows do not already say,
-- and goes when they go.
CREATE TABLE reader_skills (
    volunteer_id INTEGER NOT NULL,
    skill        TEXT NOT NULL,
    priority     INTEGER NOT NULL,
    request_id   INTEGER NOT NULL,
    PRIMARY KEY (volunteer_id, skill, priority DESC, request_id DESC)
) WITHOUT ROWID;

INSERT INTO reader_skills (volunteer_id, skill, priority, request_id)
SELECT rr.volunteer_id, s.skill, rr.priority, rr.request_id
  FROM request_readers rr JOIN request_skills s ON s.request_id = rr.request_id
 WHERE rr.volunteer_id IS NOT NULL
ON CONFLICT DO NOTHING;

-- A request's skills are written before its readers (store/requests.py,
-- create_request) and never change, so a new reader row brings its own.
CREATE TRIGGER reader_skills_insert AFTER INSERT ON request_readers
WHEN NEW.volunteer_id IS NOT NULL
BEGIN
    INSERT INTO reader_skills (volunteer_id, skill, priority, request_id)
    SELECT NEW.volunteer_id, skill, NEW.priority, NEW.request_id
      FROM request_skills WHERE request_id = NEW.request_id
    ON CONFLICT DO NOTHING;
END;

-- Each DELETE and UPDATE below names every column of the key (the skills by
-- IN, the priority by IN where it is not known), so it seeks its rows instead
-- of walking everything the volunteer reads.
CREATE TRIGGER reader_skills_priority AFTER UPDATE OF priority, volunteer_id ON request_readers
WHEN OLD.priority != NEW.priority OR OLD.volunteer_id IS NOT NEW.volunteer_id
BEGIN
    DELETE FROM reader_skills
     WHERE volunteer_id = OLD.volunteer_id
       AND skill IN (SELECT skill FROM request_skills WHERE request_id = OLD.request_id)
       AND priority = OLD.priority AND request_id = OLD.request_id;
    INSERT INTO reader_skills (volunteer_id, skill, priority, request_id)
    SELECT NEW.volunteer_id, skill, NEW.priority, NEW.request_id
      FROM request_skills WHERE request_id = NEW.request_id AND NEW.volunteer_id IS NOT NULL
    ON CONFLICT DO NOTHING;
END;

-- A reader gone (a volunteer deleted, a reader removed).
CREATE TRIGGER reader_skills_reader_gone AFTER DELETE ON request_readers
WHEN OLD.volunteer_id IS NOT NULL
BEGIN
    DELETE FROM reader_skills
     WHERE volunteer_id = OLD.volunteer_id
       AND skill IN (SELECT skill FROM request_skills WHERE request_id = OLD.request_id)
       AND priority IN (0, 1, 2) AND request_id = OLD.request_id;
END;

-- A request deleted (by its requester, or forgotten): before the cascade
-- takes its skill rows, which the trigger above needs.
CREATE TRIGGER reader_skills_request_gone BEFORE DELETE ON requests
BEGIN
    DELETE FROM reader_skills
     WHERE volunteer_id IN (SELECT volunteer_id FROM request_readers
                             WHERE request_id = OLD.id AND volunteer_id IS NOT NULL)
       AND skill IN (SELECT skill FROM request_skills WHERE request_id = OLD.id)
       AND priority IN (0, 1, 2) AND request_id = OLD.id;
END;
