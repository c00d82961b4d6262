-- Single sign-on through OpenID Connect (oidc-sign-in.ts). A person's identity at a provider (its issuer and
-- their subject there, which never changes) is linked to ONE PCN Hub user, on their first SSO sign-in.
CREATE TABLE user_identity (
  issuer    text        NOT NULL,
  subject   text        NOT NULL,
  user_id   uuid        NOT NULL REFERENCES app_user (id) ON DELETE CASCADE,
  linked_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (issuer, subject),
  -- One identity per user at each provider: a second subject claiming the same email is refused, not linked.
  UNIQUE (issuer, user_id)
);

-- A sign-in started at the provider and not yet back: its state (also in the browser's cookie), nonce and
-- PKCE verifier stay on the server; used once, within minutes.
CREATE TABLE oidc_sign_in (
  state         text        PRIMARY KEY,
  nonce         text        NOT NULL,
  code_verifier text        NOT NULL,
  redirect_uri  text        NOT NULL,
  return_to     text        NOT NULL,
  started_at    timestamptz NOT NULL DEFAULT now()
);

-- The one-time code the web app swaps for its session token (a token never travels in a URL). Only its
-- sha256 is kept; used once, within a minute.
CREATE TABLE oidc_handover (
  code_hash  text        PRIMARY KEY,
  user_id    uuid        NOT NULL REFERENCES app_user (id) ON DELETE CASCADE,
  return_to  text        NOT NULL,
  expires_at timestamptz NOT NULL
);
