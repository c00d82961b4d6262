-- `_security` and `_tag` are searchable (meta.security, meta.tag as tokens), and the access rules ask
-- the `_security` tokens whether an entry carries a sensitivity label the viewer's role may not see
-- (one probe by the owner index, no JSON read). Resources stored before this migration get theirs here.
INSERT INTO fhir_token (resource_type, id, code, system, value)
SELECT r.resource_type, r.id, '_security', c.value ->> 'system', c.value ->> 'code'
  FROM fhir_resource r, json_array_elements(CASE WHEN json_typeof(r.content -> 'meta' -> 'security') = 'array' THEN r.content -> 'meta' -> 'security' ELSE '[]'::json END) AS c(value)
 WHERE NOT r.deleted AND r.content IS NOT NULL;
INSERT INTO fhir_token (resource_type, id, code, system, value)
SELECT r.resource_type, r.id, '_tag', c.value ->> 'system', c.value ->> 'code'
  FROM fhir_resource r, json_array_elements(CASE WHEN json_typeof(r.content -> 'meta' -> 'tag') = 'array' THEN r.content -> 'meta' -> 'tag' ELSE '[]'::json END) AS c(value)
 WHERE NOT r.deleted AND r.content IS NOT NULL;
