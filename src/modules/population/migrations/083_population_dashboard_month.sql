-- The population dashboards' monthly trend: each practice's counts at the end of a `pcn population run`, one row
-- per (month of the run's as-of day, practice, purpose, measure). A later run in the same month replaces that
-- month's rows, so a series has one point per month. Purpose 'secondary-use' counts leave out patients with the
-- national data opt-out (what analysts see); 'direct-care' counts everyone (the PCN's own clinicians).
-- Measures: patients, efi:<fit|mild|moderate|severe|refused>, smr:priority, smr:refused, gap:<id>:open, gap:<id>:closed.
CREATE TABLE population_dashboard_month (
  month         date    NOT NULL CHECK (extract(day FROM month) = 1),
  practice_ods  text    NOT NULL,
  purpose       text    NOT NULL CHECK (purpose IN ('direct-care', 'secondary-use')),
  measure       text    NOT NULL,
  count         integer NOT NULL CHECK (count >= 0),
  run_id        bigint  NOT NULL REFERENCES population_run (id),
  rules_version text    NOT NULL,
  PRIMARY KEY (practice_ods, purpose, month, measure)
);
