-- Worklists: a cohort's patients when the list was made, assigned to a role in a PCN, for one purpose (a care gap id,
-- or 'smr' for a structured medication review). Whether the record now shows the action ("gap closed") is read from
-- population_patient at read time, never stored here.
CREATE TABLE population_worklist (
  id            uuid        PRIMARY KEY,
  name          text        NOT NULL,
  cohort_id     uuid        REFERENCES population_cohort (id) ON DELETE SET NULL,
  purpose       text        NOT NULL,
  role          text        NOT NULL,
  pcn_code      text        NOT NULL,
  org_code      text,
  created_by    text        NOT NULL,
  created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX population_worklist_pcn ON population_worklist (pcn_code, created_at);

-- One row per patient on a list: its status, note and owner, and a version every change moves on (a change names
-- the version it was made from; another one in between is a conflict, never a lost write).
CREATE TABLE population_worklist_patient (
  worklist_id uuid        NOT NULL REFERENCES population_worklist (id) ON DELETE CASCADE,
  patient_id  text        NOT NULL,
  status      text        NOT NULL DEFAULT 'to-contact' CHECK (status IN ('to-contact', 'contacted', 'booked', 'done', 'declined')),
  note        text        NOT NULL DEFAULT '',
  owner_email text,
  version     integer     NOT NULL DEFAULT 1,
  updated_by  text,
  updated_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (worklist_id, patient_id)
);

-- Every change to a row, as it was after the change.
CREATE TABLE population_worklist_change (
  id          bigserial   PRIMARY KEY,
  worklist_id uuid        NOT NULL REFERENCES population_worklist (id) ON DELETE CASCADE,
  patient_id  text        NOT NULL,
  version     integer     NOT NULL,
  status      text        NOT NULL,
  note        text        NOT NULL,
  owner_email text,
  changed_by  text        NOT NULL,
  changed_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX population_worklist_change_row ON population_worklist_change (worklist_id, patient_id, id);
