-- Saved cohorts (src/modules/population/cohorts): a named definition (filters over population_patient, as JSON
-- checked by cohort-definition.ts), owned by the person who saved it and shared within its PCN. `version` moves on
-- every change; `pseudonym_key` makes the cohort's pseudonymised export stable for this cohort and unlinkable
-- with any other cohort's.
CREATE TABLE population_cohort (
  id            uuid        PRIMARY KEY,
  name          text        NOT NULL,
  definition    jsonb       NOT NULL,
  pcn_code      text        NOT NULL,
  owner_email   text        NOT NULL,
  owner_name    text        NOT NULL,
  pseudonym_key text        NOT NULL,
  version       integer     NOT NULL DEFAULT 1,
  created_at    timestamptz NOT NULL DEFAULT now(),
  updated_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX population_cohort_pcn ON population_cohort (pcn_code, name);

-- Each cohort's size, kept once a day: the first evaluation of a day writes the row, later ones that day update
-- it (the trend is a day's last known size, not every look).
CREATE TABLE population_cohort_size (
  cohort_id uuid        NOT NULL REFERENCES population_cohort (id) ON DELETE CASCADE,
  day       date        NOT NULL,
  size      integer     NOT NULL,
  at        timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (cohort_id, day)
);
