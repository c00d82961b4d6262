-- A person's own recent looks at single records ("recently viewed", a clinician's caseload on their home page,
-- issue 13): found by who and when, not by scanning the whole log.
CREATE INDEX audit_event_actor_patient ON audit_event (actor, at DESC) WHERE cardinality(patient_ids) = 1;
