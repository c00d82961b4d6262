-- Single-resource writes (FHIR create and update) as PL/pgSQL functions. A function's statements are
-- planned once per connection and the plans kept, where the same statements sent one by one (or as
-- one large CTE) are parsed and planned again on every request; PGlite, with no named statements,
-- gains most. One call is one statement, so it is atomic without BEGIN/COMMIT.
--
-- The index rows arrive as parallel arrays, one set per index table (see fhir-store.ts).

CREATE FUNCTION fhir_insert_index_rows(
  p_type text, p_id text,
  t_code text[], t_system text[], t_value text[],
  s_code text[], s_value text[], s_exact text[],
  d_code text[], d_low timestamptz[], d_high timestamptz[],
  r_code text[], r_target_type text[], r_target_id text[],
  n_code text[], n_value numeric[], n_system text[], n_unit text[]
) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  -- An empty list skips its INSERT: most resources fill two or three of the five tables.
  IF cardinality(t_code) > 0 THEN
    INSERT INTO fhir_token (resource_type, id, code, system, value) SELECT p_type, p_id, x.* FROM unnest(t_code, t_system, t_value) AS x;
  END IF;
  IF cardinality(s_code) > 0 THEN
    INSERT INTO fhir_string (resource_type, id, code, value, exact) SELECT p_type, p_id, x.* FROM unnest(s_code, s_value, s_exact) AS x;
  END IF;
  IF cardinality(d_code) > 0 THEN
    INSERT INTO fhir_date (resource_type, id, code, low, high) SELECT p_type, p_id, x.* FROM unnest(d_code, d_low, d_high) AS x;
  END IF;
  IF cardinality(r_code) > 0 THEN
    INSERT INTO fhir_reference (resource_type, id, code, target_type, target_id) SELECT p_type, p_id, x.* FROM unnest(r_code, r_target_type, r_target_id) AS x;
  END IF;
  IF cardinality(n_code) > 0 THEN
    INSERT INTO fhir_number (resource_type, id, code, value, system, unit) SELECT p_type, p_id, x.* FROM unnest(n_code, n_value, n_system, n_unit) AS x;
  END IF;
END $$;

-- A brand-new resource: current row, first history row, index rows. False (nothing written) when the id is taken.
CREATE FUNCTION fhir_create(
  p_type text, p_id text, p_version bigint, p_updated timestamptz, p_patient text, p_content jsonb,
  t_code text[], t_system text[], t_value text[],
  s_code text[], s_value text[], s_exact text[],
  d_code text[], d_low timestamptz[], d_high timestamptz[],
  r_code text[], r_target_type text[], r_target_id text[],
  n_code text[], n_value numeric[], n_system text[], n_unit text[]
) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO fhir_resource (resource_type, id, version_id, last_updated, patient_id, content)
  VALUES (p_type, p_id, p_version, p_updated, p_patient, p_content) ON CONFLICT (resource_type, id) DO NOTHING;
  IF NOT FOUND THEN
    RETURN false;
  END IF;
  INSERT INTO fhir_history (resource_type, id, version_id, last_updated, content) VALUES (p_type, p_id, p_version, p_updated, p_content);
  PERFORM fhir_insert_index_rows(p_type, p_id, t_code, t_system, t_value, s_code, s_value, s_exact, d_code, d_low, d_high,
                                 r_code, r_target_type, r_target_id, n_code, n_value, n_system, n_unit);
  RETURN true;
END $$;

-- A new version of a stored resource: current row replaced, history row added, old index rows out, new ones in.
CREATE FUNCTION fhir_replace(
  p_type text, p_id text, p_version bigint, p_updated timestamptz, p_patient text, p_content jsonb,
  t_code text[], t_system text[], t_value text[],
  s_code text[], s_value text[], s_exact text[],
  d_code text[], d_low timestamptz[], d_high timestamptz[],
  r_code text[], r_target_type text[], r_target_id text[],
  n_code text[], n_value numeric[], n_system text[], n_unit text[]
) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  UPDATE fhir_resource SET version_id = p_version, last_updated = p_updated, deleted = false, patient_id = p_patient, content = p_content
   WHERE resource_type = p_type AND id = p_id;
  INSERT INTO fhir_history (resource_type, id, version_id, last_updated, content) VALUES (p_type, p_id, p_version, p_updated, p_content);
  PERFORM fhir_delete_index_rows(p_type, p_id);
  PERFORM fhir_insert_index_rows(p_type, p_id, t_code, t_system, t_value, s_code, s_value, s_exact, d_code, d_low, d_high,
                                 r_code, r_target_type, r_target_id, n_code, n_value, n_system, n_unit);
END $$;

CREATE FUNCTION fhir_delete_index_rows(p_type text, p_id text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM fhir_token WHERE resource_type = p_type AND id = p_id;
  DELETE FROM fhir_string WHERE resource_type = p_type AND id = p_id;
  DELETE FROM fhir_date WHERE resource_type = p_type AND id = p_id;
  DELETE FROM fhir_reference WHERE resource_type = p_type AND id = p_id;
  DELETE FROM fhir_number WHERE resource_type = p_type AND id = p_id;
END $$;
