/**
 * The SMART Backend Services token exchange (OAuth 2.0 client credentials with a private_key_jwt client
 * assertion, RFC 7523): a registered client proves who it is with a short-lived JWT signed by one of its
 * keys and receives an access token of at most five minutes for the scopes it asked for and may have.
 */
import { createLocalJWKSet, decodeJwt, jwtVerify, type JWTPayload } from 'jose';
import type { Db } from '../../storage/db.ts';
import { CLIENT_ALGORITHMS, getClient } from './clients.ts';
import { covers, parseScope } from './scopes.ts';
import { issueClientToken } from './tokens.ts';

export const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
/** How long an access token lasts, and the furthest ahead an assertion's exp may be (SMART: five minutes). */
export const ACCESS_TOKEN_SECONDS = 300;
const MAX_ASSERTION_SECONDS = 300;
const CLOCK_SKEW_SECONDS = 30;

export type OAuthErrorCode = 'invalid_request' | 'invalid_client' | 'invalid_grant' | 'invalid_scope' | 'unsupported_grant_type';

/** An OAuth 2.0 error response (RFC 6749 5.2): `{error, error_description}`, 401 for invalid_client, else 400. */
export class OAuthError extends Error {
  readonly status: number;
  constructor(
    readonly error: OAuthErrorCode,
    readonly description: string,
  ) {
    super(description);
    this.status = error === 'invalid_client' ? 401 : 400;
  }
}

export interface TokenRequest {
  grant_type?: string;
  client_assertion_type?: string;
  client_assertion?: string;
  scope?: string;
}

export interface TokenResponse {
  access_token: string;
  token_type: 'bearer';
  expires_in: number;
  scope: string;
}

/** Exchanges a client assertion for an access token; `tokenUrl` is this endpoint's URL, the assertion's required `aud`. */
export async function exchangeClientAssertion(db: Db, request: TokenRequest, tokenUrl: string): Promise<TokenResponse> {
  if (request.grant_type !== 'client_credentials') throw new OAuthError('unsupported_grant_type', 'grant_type must be client_credentials');
  if (request.client_assertion_type !== ASSERTION_TYPE) throw new OAuthError('invalid_request', `client_assertion_type must be ${ASSERTION_TYPE}`);
  if (!request.client_assertion) throw new OAuthError('invalid_request', 'client_assertion is required: a JWT signed with one of your registered keys');
  if (!request.scope?.trim()) throw new OAuthError('invalid_scope', 'scope is required, e.g. system/Patient.read');

  let unverified: JWTPayload;
  try {
    unverified = decodeJwt(request.client_assertion);
  } catch {
    throw new OAuthError('invalid_client', 'client_assertion is not a JWT');
  }
  const clientId = unverified.iss;
  if (typeof clientId !== 'string' || unverified.sub !== clientId) throw new OAuthError('invalid_client', 'the assertion’s iss and sub must both be your client id');
  const client = await getClient(db, clientId).catch(() => undefined); // a malformed id is as unknown as a missing one
  if (!client) throw new OAuthError('invalid_client', 'no client is registered with this id');
  if (client.disabledAt) throw new OAuthError('invalid_client', 'this client has been disabled');

  let claims: JWTPayload;
  try {
    ({ payload: claims } = await jwtVerify(request.client_assertion, createLocalJWKSet(client.jwks), {
      issuer: clientId,
      subject: clientId,
      audience: tokenUrl,
      algorithms: [...CLIENT_ALGORITHMS],
      requiredClaims: ['exp', 'jti'],
      clockTolerance: CLOCK_SKEW_SECONDS,
    }));
  } catch (error) {
    throw new OAuthError('invalid_client', `the client assertion was refused: ${assertionProblem(error, tokenUrl)}`);
  }
  const now = Math.floor(Date.now() / 1000);
  if (claims.exp! > now + MAX_ASSERTION_SECONDS + CLOCK_SKEW_SECONDS) throw new OAuthError('invalid_client', `the assertion’s exp may be at most ${MAX_ASSERTION_SECONDS / 60} minutes ahead`);

  const granted = grantedScopes(request.scope, client.scopes);
  await spendJti(db, clientId, String(claims.jti), claims.exp!);
  return { access_token: await issueClientToken(db, clientId, granted, ACCESS_TOKEN_SECONDS), token_type: 'bearer', expires_in: ACCESS_TOKEN_SECONDS, scope: granted.join(' ') };
}

function assertionProblem(error: unknown, tokenUrl: string): string {
  const code = (error as { code?: string }).code;
  const claim = (error as { claim?: string }).claim;
  if (code === 'ERR_JWT_EXPIRED') return 'it has expired';
  if (code === 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED' || code === 'ERR_JWKS_NO_MATCHING_KEY' || code === 'ERR_JWKS_MULTIPLE_MATCHING_KEYS') return 'its signature does not match a registered key';
  if (code === 'ERR_JOSE_ALG_NOT_ALLOWED') return `it must be signed with ${CLIENT_ALGORITHMS.join(' or ')}`;
  if (code === 'ERR_JWT_CLAIM_VALIDATION_FAILED' && claim === 'aud') return `its aud must be ${tokenUrl}`;
  if (code === 'ERR_JWT_CLAIM_VALIDATION_FAILED') return `its ${claim ?? 'claims'} is not right`;
  return 'it is not a valid signed JWT';
}

/** The requested scopes the client is allowed (each covered by one of its registered scopes); none → invalid_scope. */
function grantedScopes(requested: string, allowed: readonly string[]): string[] {
  const allowedScopes = allowed.map(parseScope).filter((s) => s !== undefined);
  const granted: string[] = [];
  for (const text of new Set(requested.split(/\s+/).filter(Boolean))) {
    const scope = parseScope(text);
    if (!scope) throw new OAuthError('invalid_scope', `'${text}' is not a system scope this server grants (e.g. system/Patient.read, system/*.rs)`);
    if (allowedScopes.some((a) => covers(a, scope))) granted.push(text);
  }
  if (granted.length === 0) throw new OAuthError('invalid_scope', `none of the requested scopes is allowed to this client; it may ask for: ${allowed.join(' ')}`);
  return granted;
}

/** Records the assertion's jti, refusing one already used; used ones are kept until they expire, in the database, so every process agrees. */
async function spendJti(db: Db, clientId: string, jti: string, exp: number): Promise<void> {
  const fresh = await db.transaction(async (tx) => {
    await tx.query('DELETE FROM client_assertion_jti WHERE expires_at < now()');
    return tx.query(`INSERT INTO client_assertion_jti (client_id, jti, expires_at) VALUES ($1, $2, to_timestamp($3)) ON CONFLICT (client_id, jti) DO NOTHING RETURNING jti`, [
      clientId,
      jti,
      exp + CLOCK_SKEW_SECONDS,
    ]);
  });
  if (fresh.length === 0) throw new OAuthError('invalid_client', 'this assertion’s jti has been used already: sign a new assertion for each token request');
}
