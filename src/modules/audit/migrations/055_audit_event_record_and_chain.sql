-- Issue 10: every look and change is ONE record per request in the shape of a FHIR AuditEvent (who,
-- organisation, role, client, patients, action, outcome, purpose of use, break-glass reason, request id),
-- and the log is append-only and hash-chained (src/modules/audit/chain.ts explains the sealing).
ALTER TABLE audit_event
  ADD COLUMN request_id text,
  ADD COLUMN org_code text,
  ADD COLUMN role text,
  ADD COLUMN client_id text,
  ADD COLUMN outcome text NOT NULL DEFAULT 'success' CHECK (outcome IN ('success', 'denied', 'error')),
  ADD COLUMN purpose text,
  ADD COLUMN break_glass_reason text,
  ADD COLUMN patient_ids text[] NOT NULL DEFAULT '{}';

-- "Who looked at my record": the records naming one patient.
CREATE INDEX audit_event_patients ON audit_event USING gin (patient_ids);
-- The IG lead's review: break-glass uses, and a window of days.
CREATE INDEX audit_event_break_glass ON audit_event (at DESC) WHERE break_glass_reason IS NOT NULL;
CREATE INDEX audit_event_at ON audit_event (at);

-- A record's id is drawn only once its transaction has an id (pg_current_xact_id assigns one), so a
-- sealer that sees every transaction older than some xid ended knows every record id drawn before it
-- is committed or never will be (chain.ts).
CREATE FUNCTION audit_event_next_id() RETURNS bigint LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_current_xact_id();
  RETURN nextval('audit_event_id_seq');
END $$;
ALTER TABLE audit_event ALTER COLUMN id SET DEFAULT audit_event_next_id();

-- One record as a function call (as audit_event_add, migration 007, with the AuditEvent's fields).
CREATE FUNCTION audit_record_add(
  p_actor text, p_action text, p_entity_type text, p_entity_id text, p_pcn_code text, p_summary text, p_detail jsonb,
  p_request_id text, p_org_code text, p_role text, p_client_id text, p_outcome text, p_purpose text,
  p_break_glass_reason text, p_patient_ids text[]
) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO audit_event (actor, action, entity_type, entity_id, pcn_code, summary, detail, request_id, org_code, role,
                           client_id, outcome, purpose, break_glass_reason, patient_ids)
  VALUES (p_actor, p_action, p_entity_type, p_entity_id, p_pcn_code, p_summary, p_detail, p_request_id, p_org_code, p_role,
          p_client_id, p_outcome, p_purpose, p_break_glass_reason, coalesce(p_patient_ids, '{}'));
  RETURN true;
END $$;

-- The chain: the sealer appends one link per committed record, in the order it seals them.
CREATE TABLE audit_chain (
  seq       bigint PRIMARY KEY,          -- 1, 2, 3 … without gaps
  event_id  bigint NOT NULL UNIQUE,      -- the audit_event sealed (no foreign key: a deleted record must be detectable, not impossible only while constraints hold)
  prev_hash text NOT NULL,               -- the previous link's hash (64 zeros for the first)
  hash      text NOT NULL,               -- sha256 over prev_hash, seq and the record's canonical serialisation
  sealed_at timestamptz NOT NULL DEFAULT now()
);

-- The sealer's working state (one row): where the chain ends and which record ids are settled.
CREATE TABLE audit_chain_head (
  one        boolean PRIMARY KEY DEFAULT true CHECK (one),
  seq        bigint NOT NULL DEFAULT 0,
  hash       text NOT NULL DEFAULT '0000000000000000000000000000000000000000000000000000000000000000',
  settled_id bigint NOT NULL DEFAULT 0,  -- every audit_event id at or below this is sealed, or was never committed
  pending_id bigint,                     -- the last id drawn at the previous sealing …
  pending_xid xid8                       -- … and the next transaction id then: once all older ones end, ids up to pending_id are settled
);
INSERT INTO audit_chain_head DEFAULT VALUES;

-- Append-only: the database refuses UPDATE, DELETE and TRUNCATE of the log and of its chain.
CREATE FUNCTION audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'the audit log is append-only: % of % is refused', TG_OP, TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER audit_event_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON audit_event FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only();
CREATE TRIGGER audit_chain_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON audit_chain FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only();
