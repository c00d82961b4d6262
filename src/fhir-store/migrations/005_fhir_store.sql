-- The shared care record: a versioned FHIR R4 resource store with search indexes extracted from the
-- R4 SearchParameter definitions. Current versions in fhir_resource, every version in fhir_history.
CREATE TABLE fhir_resource (
  resource_type text        NOT NULL,
  id            text        NOT NULL,
  version_id    bigint      NOT NULL,
  last_updated  timestamptz NOT NULL,
  deleted       boolean     NOT NULL DEFAULT false,
  -- The patient whose record this entry belongs to (the Patient compartment), for access rules and $everything.
  patient_id    text,
  content       jsonb,
  PRIMARY KEY (resource_type, id)
);
CREATE INDEX fhir_resource_updated ON fhir_resource (resource_type, last_updated, id);
CREATE INDEX fhir_resource_patient ON fhir_resource (patient_id) WHERE patient_id IS NOT NULL;

CREATE TABLE fhir_history (
  resource_type text        NOT NULL,
  id            text        NOT NULL,
  version_id    bigint      NOT NULL,
  last_updated  timestamptz NOT NULL,
  deleted       boolean     NOT NULL DEFAULT false,
  content       jsonb,
  PRIMARY KEY (resource_type, id, version_id)
);
CREATE INDEX fhir_history_updated ON fhir_history (resource_type, last_updated);

-- One narrow table per kind of search value; `code` is the search parameter's code.
CREATE TABLE fhir_token (
  resource_type text NOT NULL,
  id            text NOT NULL,
  code          text NOT NULL,
  system        text,
  value         text
);
CREATE INDEX fhir_token_lookup ON fhir_token (resource_type, code, value, system);
CREATE INDEX fhir_token_owner ON fhir_token (resource_type, id);

CREATE TABLE fhir_string (
  resource_type text NOT NULL,
  id            text NOT NULL,
  code          text NOT NULL,
  value         text NOT NULL, -- lower case, accents removed: for the default (starts-with) and :contains
  exact         text NOT NULL  -- as written: for :exact
);
CREATE INDEX fhir_string_lookup ON fhir_string (resource_type, code, value text_pattern_ops);
CREATE INDEX fhir_string_owner ON fhir_string (resource_type, id);

CREATE TABLE fhir_date (
  resource_type text NOT NULL,
  id            text NOT NULL,
  code          text NOT NULL,
  low           timestamptz,
  high          timestamptz
);
CREATE INDEX fhir_date_lookup ON fhir_date (resource_type, code, low, high);
CREATE INDEX fhir_date_owner ON fhir_date (resource_type, id);

CREATE TABLE fhir_reference (
  resource_type text NOT NULL,
  id            text NOT NULL,
  code          text NOT NULL,
  target_type   text NOT NULL,
  target_id     text NOT NULL
);
CREATE INDEX fhir_reference_lookup ON fhir_reference (resource_type, code, target_id, target_type);
CREATE INDEX fhir_reference_target ON fhir_reference (target_type, target_id);
CREATE INDEX fhir_reference_owner ON fhir_reference (resource_type, id);

CREATE TABLE fhir_number (
  resource_type text    NOT NULL,
  id            text    NOT NULL,
  code          text    NOT NULL,
  value         numeric NOT NULL,
  system        text,
  unit          text
);
CREATE INDEX fhir_number_lookup ON fhir_number (resource_type, code, value);
CREATE INDEX fhir_number_owner ON fhir_number (resource_type, id);

-- Bulk Data $export jobs.
CREATE TABLE fhir_export_job (
  id           text PRIMARY KEY,
  requested_by text NOT NULL,
  request_url  text NOT NULL,
  status       text NOT NULL CHECK (status IN ('accepted', 'in-progress', 'completed', 'failed')),
  created_at   timestamptz NOT NULL DEFAULT now(),
  finished_at  timestamptz,
  output       jsonb,
  error        text
);
