-- The rest of the access policy's per-patient probes as functions (see 062): planned once per session
-- instead of on every read. Registration in the viewer's PCN stays inline in the statement (the common,
-- cheapest answer); these are asked only when it does not answer.

-- The viewer's organisation is on the patient's care team (a CareTeam participant), holds an open
-- referral (an active ServiceRequest it performs) or an open task (a Task it owns, not finished). Found
-- from the patient's own rows (the patient index); `|| ''` keeps the planner off the lookup indexes.
CREATE FUNCTION access_named_in_record(p_patient text, p_org text) RETURNS boolean LANGUAGE plpgsql STABLE AS $$
BEGIN
  RETURN EXISTS (
    SELECT 1 FROM fhir_resource c JOIN fhir_token m ON m.id = c.id AND m.resource_type || '' = c.resource_type
     WHERE c.patient_id = p_patient AND c.resource_type || '' IN ('CareTeam', 'ServiceRequest', 'Task') AND NOT c.deleted
       AND m.value = p_org AND m.code || '' IN ('participant:identifier', 'performer:identifier', 'owner:identifier')
       AND (   (c.resource_type = 'CareTeam' AND m.code = 'participant:identifier')
            OR (c.resource_type = 'ServiceRequest' AND m.code = 'performer:identifier' AND c.content ->> 'status' = 'active')
            OR (c.resource_type = 'Task' AND m.code = 'owner:identifier'
                AND c.content ->> 'status' NOT IN ('completed', 'cancelled', 'rejected', 'failed', 'entered-in-error'))));
END $$;

-- An open break-glass grant of this user for this patient.
CREATE FUNCTION access_granted(p_user uuid, p_patient text) RETURNS boolean LANGUAGE plpgsql STABLE AS $$
BEGIN
  RETURN EXISTS (SELECT 1 FROM break_glass_grant b WHERE b.user_id = p_user AND b.patient_id = p_patient AND b.expires_at > now());
END $$;
