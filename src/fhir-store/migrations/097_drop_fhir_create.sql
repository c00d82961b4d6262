-- A create is written set-wise by one statement (src/fhir-store/versions.ts, createsStatement, since a593482): the
-- PL/pgSQL function fhir_create (migration 047) is no longer called. fhir_replace and fhir_insert_index_rows stay.
DROP FUNCTION fhir_create(text, text, bigint, timestamptz, text, json, fhir_index_arrays, text[]);
