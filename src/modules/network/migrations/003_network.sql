-- The registry: area (ICB) → PCNs → member practices (with membership history) and partners.
CREATE TABLE area (
  code     text PRIMARY KEY,
  name     text NOT NULL,
  size_min integer NOT NULL CHECK (size_min >= 0),
  size_max integer,                 -- NULL: no upper limit
  CHECK (size_max IS NULL OR size_max >= size_min)
);

CREATE TABLE practice (
  ods       text PRIMARY KEY,
  name      text NOT NULL,
  postcode  text,                   -- the ePCN file does not carry one
  town      text,
  latitude  double precision CHECK (latitude BETWEEN -90 AND 90),
  longitude double precision CHECK (longitude BETWEEN -180 AND 180),
  list_size integer CHECK (list_size >= 0) -- NULL: not known (the ePCN file does not carry it)
);

CREATE TABLE pcn (
  code                text PRIMARY KEY,
  name                text NOT NULL,
  area_code           text NOT NULL REFERENCES area (code),
  clinical_director   text,
  nominated_payee_ods text REFERENCES practice (ods),
  open_date           date NOT NULL,
  close_date          date
);
CREATE INDEX pcn_area ON pcn (area_code);

-- A practice belongs to exactly one PCN at a time; ended memberships are its history.
CREATE TABLE practice_membership (
  id           bigserial PRIMARY KEY,
  practice_ods text NOT NULL REFERENCES practice (ods),
  pcn_code     text NOT NULL REFERENCES pcn (code),
  start_date   date NOT NULL,
  end_date     date,
  CHECK (end_date IS NULL OR end_date >= start_date)
);
CREATE UNIQUE INDEX practice_membership_current ON practice_membership (practice_ods) WHERE end_date IS NULL;
CREATE INDEX practice_membership_pcn ON practice_membership (pcn_code, end_date);

CREATE TABLE partner (
  code      text PRIMARY KEY,
  name      text NOT NULL,
  type      text NOT NULL CHECK (type IN ('community-pharmacy', 'community-services', 'mental-health', 'acute',
              'social-care', 'voluntary', 'care-home', 'ambulance', 'hospice', 'healthwatch')),
  postcode  text,
  latitude  double precision,
  longitude double precision
);

-- One partner (a trust, a council) may serve many PCNs.
CREATE TABLE pcn_partner (
  pcn_code     text NOT NULL REFERENCES pcn (code),
  partner_code text NOT NULL REFERENCES partner (code),
  role         text,
  PRIMARY KEY (pcn_code, partner_code)
);
CREATE INDEX pcn_partner_partner ON pcn_partner (partner_code);
