-- Population health's stored results (src/modules/population): one row per patient and rule set version,
-- the whole explained result as evaluatePatient gave it, for the day it was computed as of. A new rule set
-- version is new rows (results of two versions are never mixed in one row); re-scoring a patient under the
-- same version replaces their row. The change feed's position, which keeps these current, is the store's
-- consumer row ('population'), moved in the same transaction as the rows it re-scored.
CREATE TABLE population_result (
  patient_id    text        NOT NULL,
  rules_version text        NOT NULL,
  as_of         date        NOT NULL,
  result        jsonb       NOT NULL,
  computed_at   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (patient_id, rules_version)
);

-- Each `pcn population run`: when, as of which day, under which rules, how far it got (a run that stopped
-- says so: finished_at stays empty).
CREATE TABLE population_run (
  id            bigserial   PRIMARY KEY,
  as_of         date        NOT NULL,
  rules_version text        NOT NULL,
  started_at    timestamptz NOT NULL DEFAULT now(),
  finished_at   timestamptz,
  patients      integer     NOT NULL DEFAULT 0
);
