-- A care team may name the person, not only their organisation: a CareTeam participant whose member is
-- identified by the user's email address (any identifier system, compared without case) is a legitimate
-- relationship for that user alone. Otherwise as access_named_in_record of 063, which this replaces.
CREATE FUNCTION access_named_in_record(p_patient text, p_org text, p_person text) RETURNS boolean LANGUAGE plpgsql STABLE AS $$
BEGIN
  RETURN EXISTS (
    SELECT 1 FROM fhir_resource c JOIN fhir_token m ON m.id = c.id AND m.resource_type || '' = c.resource_type
     WHERE c.patient_id = p_patient AND c.resource_type || '' IN ('CareTeam', 'ServiceRequest', 'Task') AND NOT c.deleted
       AND m.code || '' IN ('participant:identifier', 'performer:identifier', 'owner:identifier')
       AND (   (c.resource_type = 'CareTeam' AND m.code = 'participant:identifier' AND (m.value = p_org OR lower(m.value) = p_person))
            OR (m.value = p_org AND c.resource_type = 'ServiceRequest' AND m.code = 'performer:identifier' AND c.content ->> 'status' = 'active')
            OR (m.value = p_org AND c.resource_type = 'Task' AND m.code = 'owner:identifier'
                AND c.content ->> 'status' NOT IN ('completed', 'cancelled', 'rejected', 'failed', 'entered-in-error'))));
END $$;

DROP FUNCTION access_named_in_record(text, text);
