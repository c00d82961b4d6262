-- One row per scored patient under the current rule set: the columns cohorts filter on and dashboards group by,
-- derived from population_result.result (its findings and its profile) in the same statement that stores it,
-- so the two never disagree. Cohorts and dashboards over 1.1M patients read this narrow table, not the jsonb.
CREATE TABLE population_patient (
  patient_id    text        PRIMARY KEY,
  rules_version text        NOT NULL,
  as_of         date        NOT NULL,
  practice_ods  text,
  birth_date    date,
  gender        text,
  postcode      text,
  -- fit | mild | moderate | severe; 'refused' when the eFI could not be answered; NULL under its minimum age
  efi_category  text,
  efi_score     numeric(6, 4),
  -- NULL when the medication review rule refused
  smr_priority  boolean,
  ltc_count     integer     NOT NULL,
  open_gaps     text[]      NOT NULL DEFAULT '{}',
  closed_gaps   text[]      NOT NULL DEFAULT '{}',
  care_home     boolean     NOT NULL DEFAULT false,
  housebound    boolean     NOT NULL DEFAULT false,
  last_contact  date,
  computed_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX population_patient_practice ON population_patient (practice_ods, efi_category);
CREATE INDEX population_patient_open_gaps ON population_patient USING gin (open_gaps);
