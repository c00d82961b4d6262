-- The change feed (migration 040) and the one-Patient-per-NHS-number table (035) were kept by triggers on
-- fhir_resource. Measured on PostgreSQL 15 (100,000 minimal Patients in one INSERT): no triggers 1.2 s,
-- the statement-level change-feed trigger +0.4 s, the row-level NHS-number trigger +2.2 s (a PL/pgSQL
-- call and a JSON parse per row). The store's write paths — fhir_create, fhir_replace, fhir_delete and
-- the bulk import statement (src/fhir-store/versions.ts) — are the only writers of fhir_resource, and they
-- already hold what the triggers recomputed: so each now writes its change row and its Patient's NHS
-- numbers itself, in the same statement as the row (the numbers arrive as an array, worked out from the
-- resource when it is prepared). src/fhir-store/changes.test.ts and nhs-number tests hold every path.
--
-- An operator's DELETE of a row (an expunge: no path of the store does it) is still fed by the
-- statement-level trigger of migration 040, and still frees a Patient's numbers by 035's row trigger.
DROP TRIGGER fhir_change_on_insert ON fhir_resource;
DROP TRIGGER fhir_change_on_update ON fhir_resource;
DROP TRIGGER fhir_patient_nhs_numbers_write ON fhir_resource;

-- Patients take NHS numbers: p_patients[i] takes p_numbers[i]. A number already held by another
-- Patient raises unique_violation naming the Patient and the holder, never the number (PostgreSQL logs
-- error messages, and an NHS number is patient data): the same message as migration 035, which
-- src/fhir-store/versions.ts (heldNhsNumber) reads. ON CONFLICT waits for a concurrent writer of the same
-- number to commit or roll back, so exactly one of them holds it.
CREATE FUNCTION fhir_take_nhs_numbers(p_patients text[], p_numbers text[]) RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE
  v_wanted bigint;
  v_taken bigint;
  v_patient text;
  v_number text;
  v_holder text;
BEGIN
  -- In the order given: of two Patients of one call with one number, the first takes it.
  WITH wanted AS (SELECT u.p, u.n, min(u.i) AS i FROM unnest(p_patients, p_numbers) WITH ORDINALITY AS u(p, n, i) GROUP BY u.p, u.n),
       taken AS (INSERT INTO fhir_patient_nhs_number (nhs_number, patient_id) SELECT n, p FROM wanted ORDER BY i
                 ON CONFLICT (nhs_number) DO NOTHING RETURNING 1)
  SELECT (SELECT count(*) FROM wanted), (SELECT count(*) FROM taken) INTO v_wanted, v_taken;
  IF v_taken = v_wanted THEN
    RETURN true;
  END IF;
  -- Statements of their own: they see the rows the statement above took (two Patients of one call
  -- with one number), through the primary key.
  SELECT u.p, u.n INTO v_patient, v_number FROM unnest(p_patients, p_numbers) WITH ORDINALITY AS u(p, n, i)
   WHERE NOT EXISTS (SELECT 1 FROM fhir_patient_nhs_number h WHERE h.nhs_number = u.n AND h.patient_id = u.p)
   ORDER BY u.i LIMIT 1;
  SELECT patient_id INTO v_holder FROM fhir_patient_nhs_number WHERE nhs_number = v_number;
  RAISE EXCEPTION 'Patient/% has an NHS number already held by Patient/%', v_patient, coalesce(v_holder, '?')
    USING ERRCODE = 'unique_violation', CONSTRAINT = 'fhir_patient_nhs_number_pkey';
END $$;

DROP FUNCTION fhir_create(text, text, bigint, timestamptz, text, json, fhir_index_arrays);
DROP FUNCTION fhir_replace(text, text, bigint, timestamptz, text, json, fhir_index_arrays);
DROP FUNCTION fhir_delete(text, text, bigint, timestamptz);

-- As in migration 009, and the change row and (for an active Patient) its NHS numbers in the same call.
CREATE FUNCTION fhir_create(p_type text, p_id text, p_version bigint, p_updated timestamptz, p_patient text, p_content json, p_rows fhir_index_arrays, p_nhs_numbers text[])
RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO fhir_resource (resource_type, id, version_id, last_updated, patient_id, content)
  VALUES (p_type, p_id, p_version, p_updated, p_patient, p_content) ON CONFLICT (resource_type, id) DO NOTHING;
  IF NOT FOUND THEN
    RETURN false;
  END IF;
  PERFORM fhir_insert_index_rows(p_type, p_id, p_rows);
  IF cardinality(p_nhs_numbers) > 0 THEN
    PERFORM fhir_take_nhs_numbers(array_fill(p_id, ARRAY[cardinality(p_nhs_numbers)]), p_nhs_numbers);
  END IF;
  INSERT INTO fhir_change (resource_type, id, version_id, patient_id, kind, changed_at)
  VALUES (p_type, p_id, p_version, p_patient, 'create', p_updated);
  RETURN true;
END $$;

CREATE FUNCTION fhir_replace(p_type text, p_id text, p_version bigint, p_updated timestamptz, p_patient text, p_content json, p_rows fhir_index_arrays, p_nhs_numbers text[])
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  PERFORM fhir_supersede(p_type, p_id);
  UPDATE fhir_resource SET version_id = p_version, last_updated = p_updated, deleted = false, patient_id = p_patient, content = p_content
   WHERE resource_type = p_type AND id = p_id;
  IF NOT FOUND THEN
    RETURN;
  END IF;
  PERFORM fhir_delete_index_rows(p_type, p_id);
  PERFORM fhir_insert_index_rows(p_type, p_id, p_rows);
  IF p_type = 'Patient' THEN
    DELETE FROM fhir_patient_nhs_number WHERE patient_id = p_id;
    IF cardinality(p_nhs_numbers) > 0 THEN
      PERFORM fhir_take_nhs_numbers(array_fill(p_id, ARRAY[cardinality(p_nhs_numbers)]), p_nhs_numbers);
    END IF;
  END IF;
  INSERT INTO fhir_change (resource_type, id, version_id, patient_id, kind, changed_at)
  VALUES (p_type, p_id, p_version, p_patient, 'update', p_updated);
END $$;

-- A delete is a new, empty version; the change row keeps the owner the version had.
CREATE FUNCTION fhir_delete(p_type text, p_id text, p_version bigint, p_updated timestamptz) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  v_patient text;
BEGIN
  PERFORM fhir_supersede(p_type, p_id);
  UPDATE fhir_resource SET version_id = p_version, last_updated = p_updated, deleted = true, content = NULL
   WHERE resource_type = p_type AND id = p_id
  RETURNING patient_id INTO v_patient;
  IF NOT FOUND THEN
    RETURN;
  END IF;
  PERFORM fhir_delete_index_rows(p_type, p_id);
  IF p_type = 'Patient' THEN
    DELETE FROM fhir_patient_nhs_number WHERE patient_id = p_id;
  END IF;
  INSERT INTO fhir_change (resource_type, id, version_id, patient_id, kind, changed_at)
  VALUES (p_type, p_id, p_version, v_patient, 'delete', p_updated);
END $$;
