-- Money given to an area or one of its PCNs, always in integer pence.
CREATE TABLE allocation (
  id             bigserial PRIMARY KEY,
  area_code      text NOT NULL REFERENCES area (code),
  pcn_code       text REFERENCES pcn (code),
  amount_pence   bigint NOT NULL CHECK (amount_pence >= 0),
  purpose        text NOT NULL,
  financial_year text NOT NULL CHECK (financial_year ~ '^\d{4}/\d{2}$'),
  source         text NOT NULL
);
CREATE INDEX allocation_area ON allocation (area_code);
