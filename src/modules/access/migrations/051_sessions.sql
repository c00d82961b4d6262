-- Sign-out and disabling take effect at once, and failed sign-ins slow down instead of locking.
-- A disabled user keeps their row (audit names them) but can neither sign in nor use a token.
ALTER TABLE app_user ADD COLUMN disabled_at timestamptz;

-- Tokens signed out before they expire, by their jti; a row may go once its token has expired.
CREATE TABLE revoked_token (
  jti        text PRIMARY KEY,
  expires_at timestamptz NOT NULL
);

-- Failed sign-ins counted per client address ('address:<ip>') and per account at an address
-- ('account:<email> address:<ip>'); past a few, each next try waits longer (exponential back-off).
CREATE TABLE sign_in_failure (
  key            text PRIMARY KEY,
  failures       integer NOT NULL,
  last_failed_at timestamptz NOT NULL
);
