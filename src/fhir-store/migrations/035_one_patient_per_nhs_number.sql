-- One active Patient per NHS number, held by the database so that no interleaving of writes (two
-- requests, a transaction, three import groups in flight) can slip past it. The table is kept by a
-- trigger on fhir_resource, so every write path (fhir_create, fhir_replace, fhir_delete, the bulk
-- import statement) keeps it without knowing of it. An inactive (active = false) or deleted Patient
-- frees its number.
CREATE TABLE fhir_patient_nhs_number (
  nhs_number text PRIMARY KEY,
  patient_id text NOT NULL
);
-- A Patient's own numbers are looked up only by equality on its id (to drop them when it changes).
CREATE INDEX fhir_patient_nhs_number_patient ON fhir_patient_nhs_number USING hash (patient_id);

-- A number already held raises unique_violation naming the new Patient and the holder, and never the
-- number itself: PostgreSQL writes error messages to its log, and an NHS number is patient data (the
-- primary key's own error would put it in the log's DETAIL). ON CONFLICT waits for a concurrent
-- writer of the same number to commit or roll back, so exactly one of them holds it.
CREATE FUNCTION fhir_patient_nhs_numbers() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  v_number text;
  v_holder text;
BEGIN
  IF TG_OP <> 'INSERT' THEN
    DELETE FROM fhir_patient_nhs_number WHERE patient_id = OLD.id;
  END IF;
  IF TG_OP = 'DELETE' OR NEW.deleted OR NEW.content IS NULL OR (NEW.content->>'active') = 'false'
     OR json_typeof(NEW.content->'identifier') IS DISTINCT FROM 'array' THEN
    RETURN NULL;
  END IF;
  FOR v_number IN
    SELECT DISTINCT i->>'value' FROM json_array_elements(NEW.content->'identifier') AS i
     WHERE i->>'system' = 'https://fhir.nhs.uk/Id/nhs-number' AND i->>'value' IS NOT NULL
  LOOP
    INSERT INTO fhir_patient_nhs_number (nhs_number, patient_id) VALUES (v_number, NEW.id) ON CONFLICT (nhs_number) DO NOTHING;
    IF NOT FOUND THEN
      SELECT patient_id INTO v_holder FROM fhir_patient_nhs_number WHERE nhs_number = v_number;
      RAISE EXCEPTION 'Patient/% has an NHS number already held by Patient/%', NEW.id, coalesce(v_holder, '?')
        USING ERRCODE = 'unique_violation', CONSTRAINT = 'fhir_patient_nhs_number_pkey';
    END IF;
  END LOOP;
  RETURN NULL;
END $$;

CREATE TRIGGER fhir_patient_nhs_numbers_write AFTER INSERT OR UPDATE ON fhir_resource
  FOR EACH ROW WHEN (NEW.resource_type = 'Patient') EXECUTE FUNCTION fhir_patient_nhs_numbers();
CREATE TRIGGER fhir_patient_nhs_numbers_delete AFTER DELETE ON fhir_resource
  FOR EACH ROW WHEN (OLD.resource_type = 'Patient') EXECUTE FUNCTION fhir_patient_nhs_numbers();

-- The numbers already held. Where stored data already has two active Patients with one number, the
-- earliest written keeps it (the other is listed by docs/operations.md's query, for someone to merge).
INSERT INTO fhir_patient_nhs_number (nhs_number, patient_id)
SELECT DISTINCT ON (t.value) t.value, t.id
  FROM fhir_token t JOIN fhir_resource r ON r.resource_type = 'Patient' AND r.id = t.id AND NOT r.deleted
 WHERE t.resource_type = 'Patient' AND t.code = 'identifier' AND t.system = 'https://fhir.nhs.uk/Id/nhs-number'
   AND t.value IS NOT NULL AND (r.content->>'active') IS DISTINCT FROM 'false'
 ORDER BY t.value, r.last_updated, t.id;
