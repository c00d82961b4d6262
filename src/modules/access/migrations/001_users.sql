-- People who sign in, and the server's own settings (the token signing key lives here so that
-- `pcn token` and `pcn serve` on the same data agree).
CREATE TABLE app_setting (
  key   text PRIMARY KEY,
  value text NOT NULL
);

CREATE TABLE app_user (
  id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  email         text NOT NULL UNIQUE CHECK (email = lower(email)),
  name          text NOT NULL,
  role          text NOT NULL CHECK (role IN ('admin', 'pcn-manager', 'clinician', 'analyst')),
  org_code      text,
  password_hash text,
  failed_logins integer NOT NULL DEFAULT 0,
  locked_until  timestamptz,
  created_at    timestamptz NOT NULL DEFAULT now()
);
