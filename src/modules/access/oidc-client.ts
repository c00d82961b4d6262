/**
 * The OpenID Connect side of single sign-on (openid-client): the provider's metadata by discovery, the
 * authorisation request (code flow, PKCE S256, state and nonce kept on the server), and the callback's
 * checks and code exchange, which verify the ID token (issuer, audience, signature by the provider's JWKS,
 * expiry, nonce). What comes back is the person's claims: the ID token's, over the userinfo endpoint's
 * (where CIS2 puts roles and organisations).
 */
import * as oidc from 'openid-client';
import { AppError } from '../../shared/errors.ts';
import type { Db } from '../../storage/db.ts';

/** An OpenID Connect provider people sign in with: NHS CIS2 or a trust's own (config.ts reads PCN_OIDC_*; docs/operations.md). */
export interface OidcSettings {
  /** The provider's issuer URL; its /.well-known/openid-configuration is read on first use. */
  issuer: string;
  clientId: string;
  /** None: a public client, held to PKCE alone. */
  clientSecret?: string;
  /** Where the provider sends people back; default the request's own origin + /api/auth/oidc/callback. */
  redirectUrl?: string;
  scopes: string;
  /** The sign-in page's button. */
  label: string;
  /** Someone the provider vouches for but PCN Hub does not know is added (with a role from the map); off by default. */
  createUsers: boolean;
  /** Take the provider's `email` as verified though it sends no `email_verified` (CIS2's directory emails). */
  trustEmail: boolean;
  /** The claim holding the person's role(s): a string, a list, or CIS2's `nhsid_nrbac_roles`. */
  roleClaim?: string;
  /** The claim holding their organisation's ODS code; CIS2's selected role carries its own `org_code`. */
  orgClaim?: string;
  /** The provider's role (a whole code or any colon-separated part, e.g. CIS2's `R8000`) → a PCN Hub role (checked at start-up). */
  roleMap: Record<string, string>;
}

/** Why a single sign-on was refused: the sign-in page says it in words (web/src/pages/sign-in-page.tsx). */
export type SsoRefusal = 'not-set-up' | 'disabled' | 'unknown-organisation' | 'no-role' | 'identity-conflict' | 'cancelled' | 'expired' | 'failed';

/** A refused single sign-on, audited; the person is sent back to the sign-in page with `reason`. */
export class SsoRefused extends AppError {
  constructor(
    readonly reason: SsoRefusal,
    message: string,
  ) {
    super('forbidden', message);
  }
}

/** The claims of a signed-in person: `iss` and `sub` always. */
export type ProviderClaims = { iss: string; sub: string } & Record<string, unknown>;

/** A sign-in started and not back within this long is refused (the person starts again). */
const PENDING_MINUTES = 10;

export interface OidcClient {
  /** The provider's authorisation URL for a new sign-in, and the state the browser must bring back. */
  start(db: Db, request: { redirectUri: string; returnTo: string }): Promise<{ url: string; state: string }>;
  /** The provider's answer at the callback: checked, exchanged and verified, once. */
  finish(db: Db, request: { callbackUrl: string; browserState: string | undefined }): Promise<{ claims: ProviderClaims; returnTo: string }>;
}

export function oidcClient(settings: OidcSettings): OidcClient {
  let configuration: Promise<oidc.Configuration> | undefined;
  // Discovered on first use and kept; a provider that was down is asked again next time.
  const discover = () =>
    (configuration ??= oidc
      .discovery(
        new URL(settings.issuer),
        settings.clientId,
        settings.clientSecret,
        settings.clientSecret ? undefined : oidc.None(),
        // Plain http only for a provider on this machine (tests, a developer's own); anything else must be https.
        isLoopback(settings.issuer) ? { execute: [oidc.allowInsecureRequests] } : undefined,
      )
      .catch((error: Error) => {
        configuration = undefined;
        throw new AppError('unavailable', `the sign-in provider ${settings.issuer} could not be reached (${error.message}): try again later`);
      }));

  return {
    async start(db, { redirectUri, returnTo }) {
      const config = await discover();
      const state = oidc.randomState();
      const nonce = oidc.randomNonce();
      const verifier = oidc.randomPKCECodeVerifier();
      await db.query(`DELETE FROM oidc_sign_in WHERE started_at < now() - make_interval(mins => $1)`, [PENDING_MINUTES]);
      await db.query('INSERT INTO oidc_sign_in (state, nonce, code_verifier, redirect_uri, return_to) VALUES ($1, $2, $3, $4, $5)', [state, nonce, verifier, redirectUri, returnTo]);
      const url = oidc.buildAuthorizationUrl(config, {
        redirect_uri: redirectUri,
        scope: settings.scopes,
        state,
        nonce,
        code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
        code_challenge_method: 'S256',
      });
      return { url: url.href, state };
    },

    async finish(db, { callbackUrl, browserState }) {
      const answer = new URL(callbackUrl);
      const state = answer.searchParams.get('state');
      // The state must be the one this browser was given (its cookie): a link made from someone else's sign-in is refused.
      if (!state || state !== browserState) throw new SsoRefused('failed', 'the sign-in did not start in this browser, or its state does not match');
      const [pending] = await db.query<{ nonce: string; verifier: string; redirectUri: string; returnTo: string; fresh: boolean }>(
        `DELETE FROM oidc_sign_in WHERE state = $1
         RETURNING nonce, code_verifier AS verifier, redirect_uri AS "redirectUri", return_to AS "returnTo", started_at > now() - make_interval(mins => $2) AS fresh`,
        [state, PENDING_MINUTES],
      );
      if (!pending) throw new SsoRefused('failed', 'this sign-in has already been used or was never started here');
      if (!pending.fresh) throw new SsoRefused('expired', `the sign-in took longer than ${PENDING_MINUTES} minutes`);
      const providerError = answer.searchParams.get('error');
      if (providerError === 'access_denied') throw new SsoRefused('cancelled', 'the sign-in was cancelled at the provider');
      const config = await discover();
      // The callback as the provider was told it: behind a proxy the request's own URL may differ.
      const current = new URL(pending.redirectUri);
      current.search = answer.search;
      try {
        const tokens = await oidc.authorizationCodeGrant(config, current, { pkceCodeVerifier: pending.verifier, expectedState: state, expectedNonce: pending.nonce, idTokenExpected: true });
        const idToken = tokens.claims()!;
        const userinfo = config.serverMetadata().userinfo_endpoint ? await oidc.fetchUserInfo(config, tokens.access_token, idToken.sub) : {};
        return { claims: { ...userinfo, ...idToken } as ProviderClaims, returnTo: pending.returnTo };
      } catch (error) {
        // openid-client's message is general ("unexpected JWT claim value"); its cause names the claim.
        const cause = (error as Error).cause instanceof Error ? `: ${((error as Error).cause as Error).message}` : '';
        throw new SsoRefused('failed', `the provider's answer was not accepted: ${(error as Error).message}${cause}`);
      }
    },
  };
}

function isLoopback(url: string): boolean {
  return ['localhost', '127.0.0.1', '[::1]'].includes(new URL(url).hostname);
}
