/** Access: users (argon2id, lockout), roles, bearer tokens. Owns `app_user` and `app_setting`. */
export { ROLES, SYSTEM_ACTOR, assertCanCreatePcn, assertCanEditPcn, type Actor, type Role } from './actor.ts';
export { TOKEN_HOURS, actorFromToken, issueToken } from './tokens.ts';
export { LOCKOUT_MINUTES, MAX_FAILED_LOGINS, MIN_PASSWORD_LENGTH, addUser, authenticate, findActor, newUserSchema, type NewUser } from './users.ts';
