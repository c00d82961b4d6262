/**
 * Access: users (argon2id, lockout), job roles, bearer tokens, and THE access policy — who may see and
 * write which patients' records and which entries in them (policy.ts, docs/access.md) — with
 * break-glass grants. Owns `app_user`, `app_setting` and `break_glass_grant`.
 */
export { ROLES, SYSTEM_ACTOR, assertCanCreatePcn, assertCanEditPcn, type Actor, type Role } from './actor.ts';
export { TOKEN_HOURS, actorFromToken, issueToken } from './tokens.ts';
export { LOCKOUT_MINUTES, MAX_FAILED_LOGINS, MIN_PASSWORD_LENGTH, addUser, authenticate, findActor, newUserSchema, type NewUser } from './users.ts';
export {
  CATEGORIES,
  CATEGORY_OF_TYPE,
  LOCAL_SENSITIVITY,
  NATIONAL_DATA_OPT_OUT,
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
  type Category,
  type Decision,
  type RolePolicy,
  type Viewer,
} from './policy.ts';
export { BREAK_GLASS_HOURS, breakGlassReview, checkBreakGlassReason, openBreakGlass, openGrantOf, type BreakGlassGrant, type BreakGlassReviewItem } from './break-glass.ts';
