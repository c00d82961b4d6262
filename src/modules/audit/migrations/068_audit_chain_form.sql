-- How a link's record was serialised for its hash. 1: the sealer's own canonical JSON of the record's
-- columns (links sealed before this migration). 2: the database's json_build_array of the same columns, as
-- text (chain.ts's RECORD_TEXT), which the sealer hashes without parsing the record; verify recomputes
-- each link by its form.
ALTER TABLE audit_chain ADD COLUMN form smallint NOT NULL DEFAULT 1 CHECK (form IN (1, 2));
