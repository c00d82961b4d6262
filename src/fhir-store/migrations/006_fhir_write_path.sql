-- 1. fhir_history keeps only superseded versions; the current one lives once, in fhir_resource. A
--    create (and every resource of a bulk import) then writes one JSONB row, not two. fhir_version
--    is every version, for vread and history.
DELETE FROM fhir_history h USING fhir_resource r
 WHERE h.resource_type = r.resource_type AND h.id = r.id AND h.version_id = r.version_id;

CREATE VIEW fhir_version AS
  SELECT resource_type, id, version_id, last_updated, deleted, content FROM fhir_resource
  UNION ALL
  SELECT resource_type, id, version_id, last_updated, deleted, content FROM fhir_history;

-- 2. Every query of fhir_reference names the referring type and parameter (search, chains,
--    _include, _revinclude), which fhir_reference_lookup serves; the target-only index only cost writes.
DROP INDEX fhir_reference_target;

-- 3. Single-resource writes (FHIR create, update, delete) as PL/pgSQL functions. A function's
--    statements are planned once per connection and the plans kept, where the same statements sent
--    one by one (or as one large CTE) are parsed and planned again on every request; PGlite, with no
--    named statements, gains most. One call is one statement, so it is atomic without BEGIN/COMMIT.
--    The index rows arrive as one fhir_index_arrays value: parallel arrays, one set per index table
--    (see fhir-store.ts).

CREATE TYPE fhir_index_arrays AS (
  t_code text[], t_system text[], t_value text[],
  s_code text[], s_value text[], s_exact text[],
  d_code text[], d_low timestamptz[], d_high timestamptz[],
  r_code text[], r_target_type text[], r_target_id text[],
  n_code text[], n_value numeric[], n_system text[], n_unit text[]
);

CREATE FUNCTION fhir_insert_index_rows(p_type text, p_id text, p_rows fhir_index_arrays) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  -- An empty list skips its INSERT: most resources fill two or three of the five tables.
  IF cardinality(p_rows.t_code) > 0 THEN
    INSERT INTO fhir_token (resource_type, id, code, system, value)
    SELECT p_type, p_id, u.* FROM unnest(p_rows.t_code, p_rows.t_system, p_rows.t_value) AS u;
  END IF;
  IF cardinality(p_rows.s_code) > 0 THEN
    INSERT INTO fhir_string (resource_type, id, code, value, exact)
    SELECT p_type, p_id, u.* FROM unnest(p_rows.s_code, p_rows.s_value, p_rows.s_exact) AS u;
  END IF;
  IF cardinality(p_rows.d_code) > 0 THEN
    INSERT INTO fhir_date (resource_type, id, code, low, high)
    SELECT p_type, p_id, u.* FROM unnest(p_rows.d_code, p_rows.d_low, p_rows.d_high) AS u;
  END IF;
  IF cardinality(p_rows.r_code) > 0 THEN
    INSERT INTO fhir_reference (resource_type, id, code, target_type, target_id)
    SELECT p_type, p_id, u.* FROM unnest(p_rows.r_code, p_rows.r_target_type, p_rows.r_target_id) AS u;
  END IF;
  IF cardinality(p_rows.n_code) > 0 THEN
    INSERT INTO fhir_number (resource_type, id, code, value, system, unit)
    SELECT p_type, p_id, u.* FROM unnest(p_rows.n_code, p_rows.n_value, p_rows.n_system, p_rows.n_unit) AS u;
  END IF;
END $$;

CREATE FUNCTION fhir_delete_index_rows(p_type text, p_id text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM fhir_token WHERE resource_type = p_type AND id = p_id;
  DELETE FROM fhir_string WHERE resource_type = p_type AND id = p_id;
  DELETE FROM fhir_date WHERE resource_type = p_type AND id = p_id;
  DELETE FROM fhir_reference WHERE resource_type = p_type AND id = p_id;
  DELETE FROM fhir_number WHERE resource_type = p_type AND id = p_id;
END $$;

-- A brand-new resource: its row and index rows. False (nothing written) when the id is taken.
CREATE FUNCTION fhir_create(p_type text, p_id text, p_version bigint, p_updated timestamptz, p_patient text, p_content jsonb, p_rows fhir_index_arrays)
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

-- The current version of a resource moves to fhir_history (before an update or a delete replaces it).
CREATE FUNCTION fhir_supersede(p_type text, p_id text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO fhir_history (resource_type, id, version_id, last_updated, deleted, content)
  SELECT resource_type, id, version_id, last_updated, deleted, content FROM fhir_resource WHERE resource_type = p_type AND id = p_id;
END $$;

-- A new version of a stored resource: the old one to history, the row replaced, old index rows out, new ones in.
CREATE FUNCTION fhir_replace(p_type text, p_id text, p_version bigint, p_updated timestamptz, p_patient text, p_content jsonb, p_rows fhir_index_arrays)
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  PERFORM fhir_supersede(p_type, p_id);
  UPDATE fhir_resource SET version_id = p_version, last_updated = p_updated, deleted = false, patient_id = p_patient, content = p_content
   WHERE resource_type = p_type AND id = p_id;
  PERFORM fhir_delete_index_rows(p_type, p_id);
  PERFORM fhir_insert_index_rows(p_type, p_id, p_rows);
END $$;

-- A delete is a new, empty version: the old one to history, the row marked deleted, its index rows out.
CREATE FUNCTION fhir_delete(p_type text, p_id text, p_version bigint, p_updated timestamptz) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  PERFORM fhir_supersede(p_type, p_id);
  UPDATE fhir_resource SET version_id = p_version, last_updated = p_updated, deleted = true, content = NULL
   WHERE resource_type = p_type AND id = p_id;
  PERFORM fhir_delete_index_rows(p_type, p_id);
END $$;
