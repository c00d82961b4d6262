-- Responses to FHIR writes sent with an Idempotency-Key, remembered per user for 24 hours so that a
-- retry is answered again without writing again (src/fhir-store/idempotency.ts). Each row is written
-- in the transaction of the write it answers: a row exists exactly when its write committed.
CREATE TABLE fhir_idempotency (
  actor text NOT NULL,
  key text NOT NULL CHECK (length(key) BETWEEN 1 AND 255),
  -- sha256 of the method, URL, conditional headers and body: the same key with another request is refused.
  request_hash text NOT NULL,
  status int NOT NULL,
  headers jsonb NOT NULL,
  body text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (actor, key)
);

-- Pruning finds expired rows by age.
CREATE INDEX fhir_idempotency_created ON fhir_idempotency (created_at);
