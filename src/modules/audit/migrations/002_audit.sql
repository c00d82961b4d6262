-- Who did what, when: every change (and, with the shared record, every look) lands here in the
-- same transaction as the thing it records.
CREATE TABLE audit_event (
  id          bigserial PRIMARY KEY,
  at          timestamptz NOT NULL DEFAULT now(),
  actor       text NOT NULL,
  action      text NOT NULL,
  entity_type text NOT NULL,
  entity_id   text NOT NULL,
  pcn_code    text,
  summary     text NOT NULL,
  detail      jsonb
);
CREATE INDEX audit_event_entity ON audit_event (entity_type, entity_id, at DESC);
CREATE INDEX audit_event_pcn ON audit_event (pcn_code, at DESC) WHERE pcn_code IS NOT NULL;
