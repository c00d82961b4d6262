-- A B-tree entry must stay under ~2.7 kB, so an indexed string of a few kB failed the whole write
-- ("index row size exceeds maximum"). The string index now holds the first 256 characters of each
-- normalised value (at most ~1 kB); the column keeps the whole value. A starts-with search compares
-- the indexed prefix and, when the searched text is longer, the whole value too; :contains reads the
-- whole value; :exact reads `exact`, never indexed (search-sql.ts). Tokens keep their index: a long
-- token value is stored as its prefix and sha256 (tokenKey in search-index.ts).
DROP INDEX fhir_string_lookup;
CREATE INDEX fhir_string_lookup ON fhir_string (resource_type, code, left(value, 256) text_pattern_ops);
