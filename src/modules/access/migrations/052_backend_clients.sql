-- Other software (pharmacy, council, GP systems) signing in with SMART Backend Services: a registered
-- client with its public keys, acting for one organisation in one role within its allowed scopes.
CREATE TABLE backend_client (
  id          text PRIMARY KEY,
  name        text NOT NULL,
  org_code    text NOT NULL,
  role        text NOT NULL,
  scopes      text NOT NULL,           -- space-separated, e.g. 'system/Patient.read system/Observation.rs'
  jwks        jsonb NOT NULL,          -- {"keys":[…]}: public keys only (RS384, ES384)
  created_at  timestamptz NOT NULL DEFAULT now(),
  disabled_at timestamptz
);

-- Client assertions already used, kept until they expire so that a replay is refused by every process.
CREATE TABLE client_assertion_jti (
  client_id  text NOT NULL REFERENCES backend_client (id),
  jti        text NOT NULL,
  expires_at timestamptz NOT NULL,
  PRIMARY KEY (client_id, jti)
);
CREATE INDEX client_assertion_jti_expiry ON client_assertion_jti (expires_at);
