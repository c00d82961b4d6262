-- The bearer-token signing key no longer lives in the database (whoever could read app_setting could mint
-- tokens): it is in a key file outside it (src/modules/access/token-key.ts). Tokens signed with the old key
-- stop working; people sign in again.
DELETE FROM app_setting WHERE key = 'token_key';
