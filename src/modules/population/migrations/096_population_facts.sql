-- Each patient's facts (facts.ts: what the population-health rules read of a record, flattened from FHIR once)
-- kept beside the record by the `population` consumer of the change feed, in the transaction that moves its
-- position, so a run scores a whole population from one narrow row a patient instead of re-reading and
-- re-parsing every entry of every record. `facts` is PatientFacts as JSON text; `held` the frailty
-- RiskAssessments this module keeps in the record for the patient ([{id, versionId, says, on}]), so a run
-- writes one only when what it says has changed, without reading the record.
CREATE TABLE population_facts (
  patient_id text PRIMARY KEY,
  facts      text NOT NULL,
  held       text NOT NULL DEFAULT '[]'
);

-- The facts' format (a hash of the code that makes them) of a run that built them from the record itself;
-- NULL for a run that scored from facts already kept. A run builds them afresh when no finished run built
-- them in the current format.
ALTER TABLE population_run ADD COLUMN facts_version text;

-- What a stored result says (a hash of it without its as-of day): a run writes a patient's result only when it
-- says something new, and otherwise leaves the row as it was (the run confirmed it: see population_patient_now).
ALTER TABLE population_result ADD COLUMN says text;

-- population_patient as it stands now: a row the latest finished run left as it was (computed before that run
-- began, under the same rules) holds as of that run's day, since the run found the same result on it.
-- Cohorts (ages!) and exports read this view, never the stored as_of alone.
CREATE VIEW population_patient_now AS
SELECT p.patient_id, p.rules_version,
       CASE WHEN r.started_at > p.computed_at AND r.as_of > p.as_of THEN r.as_of ELSE p.as_of END AS as_of,
       p.practice_ods, p.birth_date, p.gender, p.postcode, p.efi_category, p.efi_score, p.smr_priority, p.ltc_count,
       p.open_gaps, p.closed_gaps, p.care_home, p.housebound, p.last_contact, p.computed_at
  FROM population_patient p
  LEFT JOIN (SELECT rules_version, as_of, started_at FROM population_run
              WHERE finished_at IS NOT NULL ORDER BY finished_at DESC, id DESC LIMIT 1) r
    ON r.rules_version = p.rules_version;
