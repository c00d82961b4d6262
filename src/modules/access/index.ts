/**
 * Access: users (argon2id, sign-in throttling, disabling), roles, bearer tokens (key file, sign-out),
 * and backend clients (SMART Backend Services, scopes). Owns `app_user`, `app_setting`, `revoked_token`,
 * `sign_in_failure`, `backend_client` and `client_assertion_jti`.
 */
export { ROLES, SYSTEM_ACTOR, assertCanCreatePcn, assertCanEditPcn, type Actor, type Role } from './actor.ts';
export { ACCESS_TOKEN_SECONDS, ASSERTION_TYPE, OAuthError, exchangeClientAssertion, type TokenRequest, type TokenResponse } from './backend-services.ts';
export { CLIENT_ALGORITHMS, addClient, disableClient, getClient, listClients, type BackendClient, type NewClient } from './clients.ts';
export { assertScopeAllows, parseScope, type Interaction } from './scopes.ts';
export { signTokensWithKeyFile } from './token-key.ts';
export { AUDIENCE, ISSUER, TOKEN_HOURS, actorFromToken, issueToken, revokeToken } from './tokens.ts';
export { MIN_PASSWORD_LENGTH, SIGN_IN_THROTTLE, SignInThrottled, addUser, authenticate, disableUser, findActor, newUserSchema, type NewUser } from './users.ts';
