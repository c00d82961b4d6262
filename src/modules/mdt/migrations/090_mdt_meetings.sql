-- MDT meetings of a PCN: the schedule, the agenda (which patients, in what order, from which list) and the attendance.
-- What is said about a patient (discussion, actions, minutes) is NOT here: it is written to the patient's record through
-- the FHIR store (a Procedure and Tasks), under the access policy and the audit. This holds only which patients are
-- on the agenda, so a participant who may not open a record sees that a patient is listed, never who.
CREATE TABLE mdt_meeting (
  id          uuid        PRIMARY KEY,
  pcn_code    text        NOT NULL,
  title       text        NOT NULL,
  starts_at   timestamptz NOT NULL,
  place       text        NOT NULL DEFAULT '',
  chair_email text        NOT NULL,
  chair_name  text        NOT NULL,
  status      text        NOT NULL DEFAULT 'scheduled' CHECK (status IN ('scheduled', 'closed', 'cancelled')),
  created_by  text        NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  closed_at   timestamptz,
  closed_by   text
);
CREATE INDEX mdt_meeting_pcn ON mdt_meeting (pcn_code, starts_at);

-- A patient on a meeting's agenda. `source` says how they got there ('cohort:<id>', 'worklist:<id>' or 'by-hand');
-- `discussion_id` is the Procedure on their record holding the discussion; a removed patient keeps the row (removed_at)
-- so a closed meeting shows who was taken off, and gets no minutes.
CREATE TABLE mdt_agenda_item (
  id            uuid        PRIMARY KEY,
  meeting_id    uuid        NOT NULL REFERENCES mdt_meeting (id) ON DELETE CASCADE,
  patient_id    text        NOT NULL,
  position      integer     NOT NULL,
  source        text        NOT NULL,
  discussion_id text,
  added_by      text        NOT NULL,
  added_at      timestamptz NOT NULL DEFAULT now(),
  removed_at    timestamptz,
  removed_by    text
);
CREATE UNIQUE INDEX mdt_agenda_item_patient ON mdt_agenda_item (meeting_id, patient_id) WHERE removed_at IS NULL;
CREATE INDEX mdt_agenda_item_meeting ON mdt_agenda_item (meeting_id, position);

-- Who came (or sent apologies), their organisation and role.
CREATE TABLE mdt_attendance (
  id         uuid        PRIMARY KEY,
  meeting_id uuid        NOT NULL REFERENCES mdt_meeting (id) ON DELETE CASCADE,
  name       text        NOT NULL,
  email      text,
  org        text        NOT NULL DEFAULT '',
  role       text        NOT NULL DEFAULT '',
  status     text        NOT NULL CHECK (status IN ('present', 'apologies')),
  recorded_by text       NOT NULL,
  recorded_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX mdt_attendance_meeting ON mdt_attendance (meeting_id);
