-- The items (bundles, NDJSON lines) that bulk import has landed, by the sha256 of their JSON text,
-- each written in the transaction of the item's resources: a re-run, or a run after a kill, skips
-- what landed whatever the bundle's shape, and two runs racing meet on the primary key.
CREATE TABLE fhir_import_item (
  hash bytea PRIMARY KEY,
  -- Where it came from (file, or file:line), for the operator; no clinical content.
  label text NOT NULL,
  resources int NOT NULL,
  imported_at timestamptz NOT NULL DEFAULT now()
);
