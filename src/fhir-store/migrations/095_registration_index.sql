-- The access policy asks, for every patient-level row a clinician reads or finds, whether the patient is
-- registered at a practice of the user's PCN (modules/access/policy.ts, registeredAt): the patient's own
-- general-practitioner token. Through the owner index that probe fetched every token row of the patient from
-- the heap of the largest table and filtered them; at 1M patients those pages are seldom in memory. This
-- partial index holds only registrations, by patient: the probe becomes one index-only lookup (issue 10: what
-- access checks cost a read).
CREATE INDEX fhir_token_registration ON fhir_token (id, value) WHERE resource_type = 'Patient' AND code = 'general-practitioner:identifier';
