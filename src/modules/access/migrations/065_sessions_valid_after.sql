-- A password reset by an admin ends the user's sessions: every token issued (iat) before this moment is
-- refused, checked in the same primary-key query that asks whether the user is still enabled (tokens.ts).
-- Updating the row notifies every process (064), so each forgets what it remembered of the user at once.
ALTER TABLE app_user ADD COLUMN sessions_valid_after timestamptz;
