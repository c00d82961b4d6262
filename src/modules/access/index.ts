/**
 * Access: users (argon2id, sign-in throttling; joiners, movers and leavers: list, change, reset, disable), roles, bearer tokens (key file, sign-out),
 * single sign-on through an OpenID Connect provider (oidc-sign-in.ts),
 * backend clients (SMART Backend Services, scopes), and THE access policy — who may see and write which
 * patients' records and which entries in them (policy.ts, docs/access.md) — with break-glass grants.
 * Owns `app_user`, `app_setting`, `revoked_token`, `sign_in_failure`, `backend_client`,
 * `client_assertion_jti`, `break_glass_grant`, `user_identity`, `oidc_sign_in` and `oidc_handover`.
 */
export { ROLES, SYSTEM_ACTOR, assertCanCreatePcn, assertCanEditPcn, pcnCodesOf, type Actor, type Role } from './actor.ts';
export { ACCESS_TOKEN_SECONDS, ASSERTION_TYPE, OAuthError, exchangeClientAssertion, type TokenRequest, type TokenResponse } from './backend-services.ts';
export { CLIENT_ALGORITHMS, addClient, disableClient, getClient, listClients, type BackendClient, type NewClient } from './clients.ts';
export { assertScopeAllows, parseScope, type Interaction } from './scopes.ts';
export { signTokensWithKeyFile } from './token-key.ts';
export { AUDIENCE, ISSUER, TOKEN_HOURS, actorFromToken, issueToken, revokeToken } from './tokens.ts';
export {
  MIN_PASSWORD_LENGTH,
  SIGN_IN_THROTTLE,
  SignInThrottled,
  addUser,
  authenticate,
  changeUser,
  disableUser,
  findActor,
  hashPassword,
  listUsers,
  newUserSchema,
  passwordResetSchema,
  resetPassword,
  userChangeSchema,
  type NewUser,
  type PasswordReset,
  type UserChange,
  type UserListing,
} from './users.ts';
export { orgCode } from './organisations.ts';
export { SsoRefused, type OidcSettings, type SsoRefusal } from './oidc-client.ts';
export { singleSignOn, type SingleSignOn } from './oidc-sign-in.ts';
export { redeemHandover } from './oidc-handover.ts';
export {
  CATEGORIES,
  CATEGORY_OF_TYPE,
  LOCAL_SENSITIVITY,
  NATIONAL_DATA_OPT_OUT,
  OPTED_OUT_PATIENTS_SQL,
  ROLE_POLICY,
  SENSITIVE,
  V3_ACT_CODE,
  V3_CONFIDENTIALITY,
  categoryOf,
  decideRead,
  decideWrite,
  entrySql,
  hiddenLabels,
  labelsOf,
  patientSql,
  policyOf,
  relationshipSql,
  roleWords,
  signatureOf,
  type Category,
  type Decision,
  type RolePolicy,
  type Viewer,
} from './policy.ts';
export { BREAK_GLASS_HOURS, breakGlassReview, checkBreakGlassReason, openBreakGlass, openGrantOf, type BreakGlassGrant, type BreakGlassReviewItem } from './break-glass.ts';
