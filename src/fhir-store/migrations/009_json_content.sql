-- Resource contents are stored as json (the text as written, checked to be JSON), not jsonb. Nothing
-- queries inside a content: search reads the index tables. jsonb's binary form cost every write a
-- parse into it and every read a conversion back to text, ~40% of writing a resource row.
DROP VIEW fhir_version;
DROP FUNCTION fhir_create(text, text, bigint, timestamptz, text, jsonb, fhir_index_arrays);
DROP FUNCTION fhir_replace(text, text, bigint, timestamptz, text, jsonb, fhir_index_arrays);

ALTER TABLE fhir_resource ALTER COLUMN content TYPE json USING content::json;
ALTER TABLE fhir_history ALTER COLUMN content TYPE json USING content::json;

CREATE VIEW fhir_version AS
  SELECT resource_type, id, version_id, last_updated, deleted, content FROM fhir_resource
  UNION ALL
  SELECT resource_type, id, version_id, last_updated, deleted, content FROM fhir_history;

-- As in migration 006, with the content as json.
CREATE FUNCTION fhir_create(p_type text, p_id text, p_version bigint, p_updated timestamptz, p_patient text, p_content json, p_rows fhir_index_arrays)
RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO fhir_resource (resource_type, id, version_id, last_updated, patient_id, content)
  VALUES (p_type, p_id, p_version, p_updated, p_patient, p_content) ON CONFLICT (resource_type, id) DO NOTHING;
  IF NOT FOUND THEN
    RETURN false;
  END IF;
  PERFORM fhir_insert_index_rows(p_type, p_id, p_rows);
  RETURN true;
END $$;

CREATE FUNCTION fhir_replace(p_type text, p_id text, p_version bigint, p_updated timestamptz, p_patient text, p_content json, p_rows fhir_index_arrays)
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  PERFORM fhir_supersede(p_type, p_id);
  UPDATE fhir_resource SET version_id = p_version, last_updated = p_updated, deleted = false, patient_id = p_patient, content = p_content
   WHERE resource_type = p_type AND id = p_id;
  PERFORM fhir_delete_index_rows(p_type, p_id);
  PERFORM fhir_insert_index_rows(p_type, p_id, p_rows);
END $$;
