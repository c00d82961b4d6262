-- The change feed: one row per write of a FHIR resource, written by triggers on fhir_resource in the
-- statement that makes the change, so every path (fhir_create / fhir_replace / fhir_delete, bulk
-- import's multi-row INSERT, and any later one) is caught without touching the write code. Statement-
-- level triggers read the statement's rows from a transition table: bulk import adds one INSERT … SELECT
-- per ~1,000 resources, not a trigger call per row.
--
-- position is drawn from a sequence (cache 1, so in the order the writes drew it, across sessions). Its
-- values can commit out of order on PostgreSQL; readers therefore read only up to a position below
-- which every writer has finished (src/fhir-store/changes.ts), never "anything above what I saw last".
CREATE TABLE fhir_change (
  position      bigserial   PRIMARY KEY,
  resource_type text        NOT NULL,
  id            text        NOT NULL,
  version_id    bigint      NOT NULL,
  -- The Patient compartment owner of the version (a deleted version keeps the owner it had).
  patient_id    text,
  -- create, update, delete (FHIR delete: a new, empty version), or expunge (the row itself removed).
  kind          text        NOT NULL,
  changed_at    timestamptz NOT NULL
);

CREATE FUNCTION fhir_change_record() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' THEN
    INSERT INTO fhir_change (resource_type, id, version_id, patient_id, kind, changed_at)
    SELECT resource_type, id, version_id, patient_id, 'expunge', now() FROM fhir_removed_rows;
  ELSE
    INSERT INTO fhir_change (resource_type, id, version_id, patient_id, kind, changed_at)
    SELECT resource_type, id, version_id, patient_id,
           CASE WHEN TG_OP = 'INSERT' THEN 'create' WHEN deleted THEN 'delete' ELSE 'update' END, last_updated
      FROM fhir_changed_rows;
  END IF;
  RETURN NULL;
END $$;

-- A trigger with transition tables has one event, hence three.
CREATE TRIGGER fhir_change_on_insert AFTER INSERT ON fhir_resource
  REFERENCING NEW TABLE AS fhir_changed_rows FOR EACH STATEMENT EXECUTE FUNCTION fhir_change_record();
CREATE TRIGGER fhir_change_on_update AFTER UPDATE ON fhir_resource
  REFERENCING NEW TABLE AS fhir_changed_rows FOR EACH STATEMENT EXECUTE FUNCTION fhir_change_record();
CREATE TRIGGER fhir_change_on_delete AFTER DELETE ON fhir_resource
  REFERENCING OLD TABLE AS fhir_removed_rows FOR EACH STATEMENT EXECUTE FUNCTION fhir_change_record();

-- Where each consumer of the feed has got to: the position of the last change it has processed,
-- written in the same transaction as what it did with the changes.
CREATE TABLE fhir_change_consumer (
  name       text        PRIMARY KEY,
  position   bigint      NOT NULL DEFAULT 0,
  updated_at timestamptz NOT NULL DEFAULT now()
);
