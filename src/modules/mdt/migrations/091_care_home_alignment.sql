-- Each care home is aligned to ONE PCN (the Network Contract DES's Enhanced Health in Care Homes). The registry may
-- link a care home to several PCNs (pcn_partner); the alignment is the one this table holds, its primary key refusing a
-- second. A care home with no row here is aligned to the PCN the registry links it to, when it links exactly one.
CREATE TABLE mdt_care_home_alignment (
  partner_code text        PRIMARY KEY,
  pcn_code     text        NOT NULL,
  aligned_by   text        NOT NULL,
  aligned_at   timestamptz NOT NULL DEFAULT now()
);
