-- Every process on the store hears at once when a sign-in stops being good, so a server may remember that
-- a token was good instead of asking the database on every request (tokens.ts): a user changed or removed
-- (disabled, role or organisation moved), a token signed out, a backend client changed or removed. The
-- payload names what changed; a listener drops what it remembered of it. Sent on commit, in commit order.
CREATE FUNCTION sign_in_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_TABLE_NAME = 'app_user' THEN
    PERFORM pg_notify('pcn_sign_in_changed', 'user:' || OLD.id::text);
  ELSIF TG_TABLE_NAME = 'revoked_token' THEN
    PERFORM pg_notify('pcn_sign_in_changed', 'token:' || NEW.jti);
  ELSE
    PERFORM pg_notify('pcn_sign_in_changed', 'client:' || OLD.id);
  END IF;
  RETURN NULL;
END $$;

CREATE TRIGGER app_user_sign_in_changed AFTER UPDATE OR DELETE ON app_user
  FOR EACH ROW EXECUTE FUNCTION sign_in_changed();
CREATE TRIGGER revoked_token_sign_in_changed AFTER INSERT ON revoked_token
  FOR EACH ROW EXECUTE FUNCTION sign_in_changed();
CREATE TRIGGER backend_client_sign_in_changed AFTER UPDATE OR DELETE ON backend_client
  FOR EACH ROW EXECUTE FUNCTION sign_in_changed();
