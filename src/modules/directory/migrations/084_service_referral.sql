-- The service directory's figures (median time to accept, share accepted, open referrals against capacity), kept
-- current from the record's change feed (consumer `directory`): one row per referral's workflow Task (code
-- `fulfill`), holding only its state and timings and the HealthcareService its ServiceRequest is performed by.
-- No patient is named here: the figures are aggregates. The Task and ServiceRequest stay the truth (FHIR store).
CREATE TABLE service_referral (
  task_id            text        PRIMARY KEY,
  service_request_id text        NOT NULL,
  -- The HealthcareService id of ServiceRequest.performer; null until the request names one.
  service_id         text,
  status             text        NOT NULL,
  authored_on        timestamptz,
  accepted_at        timestamptz,
  finished_at        timestamptz,
  updated_at         timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX service_referral_service ON service_referral (service_id, status);
CREATE INDEX service_referral_request ON service_referral (service_request_id);
