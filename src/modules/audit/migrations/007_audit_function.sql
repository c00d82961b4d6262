-- One audit entry as a function call, so that a change and its entry can be one short statement
-- (`SELECT CASE WHEN fhir_create(…) THEN audit_event_add(…) END`): atomic, and planned once per connection.
CREATE FUNCTION audit_event_add(p_actor text, p_action text, p_entity_type text, p_entity_id text, p_pcn_code text, p_summary text, p_detail jsonb)
RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO audit_event (actor, action, entity_type, entity_id, pcn_code, summary, detail)
  VALUES (p_actor, p_action, p_entity_type, p_entity_id, p_pcn_code, p_summary, p_detail);
  RETURN true;
END $$;
