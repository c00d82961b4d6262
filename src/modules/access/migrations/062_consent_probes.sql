-- The access policy's consent probes (modules/access/policy.ts) as functions: asked in every read's own
-- statement, inline they made each read's plan several times dearer to build; a plpgsql function keeps
-- its plan for the session. Each starts from the patient's Consents by the reference lookup index, so a
-- patient without a deny Consent costs one index probe. `|| ''` keeps the planner off the token lookup
-- index (which would read every Consent's organisation token), as elsewhere in the policy.

-- An active deny Consent of the patient carrying the national data opt-out policy.
CREATE FUNCTION access_opted_out(p_patient text) RETURNS boolean LANGUAGE plpgsql STABLE AS $$
BEGIN
  RETURN EXISTS (
    SELECT 1 FROM fhir_reference k JOIN fhir_resource d ON d.resource_type = 'Consent' AND d.id = k.id
     WHERE k.resource_type = 'Consent' AND k.code = 'patient' AND k.target_id = p_patient AND k.target_type = 'Patient'
       AND NOT d.deleted AND d.content ->> 'status' = 'active' AND d.content -> 'provision' ->> 'type' = 'deny'
       AND EXISTS (SELECT 1 FROM json_array_elements(CASE WHEN json_typeof(d.content -> 'policy') = 'array' THEN d.content -> 'policy' ELSE '[]'::json END) AS u(value)
                    WHERE u.value ->> 'uri' = 'https://digital.nhs.uk/services/national-data-opt-out'));
END $$;

-- Dissent from sharing that shuts out a viewer of organisation p_org: an active deny Consent (not the
-- national opt-out) recorded by the patient's registered practice, and p_org is not that practice.
CREATE FUNCTION access_dissent_applies(p_patient text, p_org text) RETURNS boolean LANGUAGE plpgsql STABLE AS $$
BEGIN
  RETURN EXISTS (
    SELECT 1 FROM fhir_reference k JOIN fhir_resource d ON d.resource_type = 'Consent' AND d.id = k.id
     WHERE k.resource_type = 'Consent' AND k.code = 'patient' AND k.target_id = p_patient AND k.target_type = 'Patient'
       AND NOT d.deleted AND d.content ->> 'status' = 'active' AND d.content -> 'provision' ->> 'type' = 'deny'
       AND NOT EXISTS (SELECT 1 FROM json_array_elements(CASE WHEN json_typeof(d.content -> 'policy') = 'array' THEN d.content -> 'policy' ELSE '[]'::json END) AS u(value)
                        WHERE u.value ->> 'uri' = 'https://digital.nhs.uk/services/national-data-opt-out')
       AND EXISTS (SELECT 1 FROM fhir_token o
                    WHERE o.id = d.id AND o.resource_type || '' = 'Consent' AND o.code || '' = 'organization:identifier' AND o.value <> p_org
                      AND EXISTS (SELECT 1 FROM fhir_token p WHERE p.id = p_patient AND p.resource_type || '' = 'Patient'
                                    AND p.code || '' = 'general-practitioner:identifier' AND p.value = o.value)));
END $$;
