-- Job roles (docs/access.md): the roles people hold in a PCN's care community. The earlier four keep
-- working: `clinician` is read as a GP, `pcn-manager`, `analyst` and `admin` are unchanged.
ALTER TABLE app_user DROP CONSTRAINT app_user_role_check;
ALTER TABLE app_user ADD CONSTRAINT app_user_role_check CHECK (role IN (
  'admin', 'pcn-manager', 'clinician', 'analyst',
  'gp', 'nurse', 'clinical-pharmacist', 'pharmacy-technician', 'social-worker', 'mental-health-practitioner',
  'social-prescribing-link-worker', 'care-coordinator', 'first-contact-practitioner', 'paramedic',
  'practice-manager', 'ig-lead'
));

-- Break-glass: a written reason opens ONE patient's record to ONE user until expires_at. The access
-- rule asks this table by (user_id, patient_id); the IG lead reviews every row.
CREATE TABLE break_glass_grant (
  id         uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
  user_id    uuid        NOT NULL REFERENCES app_user (id) ON DELETE CASCADE,
  patient_id text        NOT NULL,
  reason     text        NOT NULL CHECK (length(reason) BETWEEN 1 AND 1000),
  opened_at  timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz NOT NULL
);
CREATE INDEX break_glass_grant_user_patient ON break_glass_grant (user_id, patient_id, expires_at);
CREATE INDEX break_glass_grant_opened ON break_glass_grant (opened_at);
