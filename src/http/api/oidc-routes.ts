/**
 * Single sign-on's three doors (the work is in modules/access/oidc-sign-in.ts): start sends the browser to
 * the provider, the callback brings it back to the sign-in page with a one-time code in the fragment (or a
 * refusal's reason), and the page swaps that code for a session token by POST.
 */
import type { FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { ZodApp } from '../app.ts';
import { AppError } from '../../shared/errors.ts';
import { SsoRefused, redeemHandover, type SingleSignOn } from '../../modules/access/index.ts';
import { newSession } from './auth-routes.ts';

const CALLBACK_PATH = '/api/auth/oidc/callback';
/** The browser's half of a sign-in's state: only the browser that started a sign-in may finish it. */
const STATE_COOKIE = 'pcn_oidc_state';
const PUBLIC = { public: true } as const;

/** Only ever return to a page of this site, and never to the sign-in page itself. */
function safeReturn(next: string | undefined): string {
  return next && /^\/(?![/\\])/.test(next) && !next.startsWith('/signin') ? next : '/';
}

function stateCookie(request: FastifyRequest, value: string, maxAgeSeconds: number): string {
  const secure = request.protocol === 'https' ? '; Secure' : '';
  return `${STATE_COOKIE}=${value}; Path=/api/auth/oidc; Max-Age=${maxAgeSeconds}; HttpOnly; SameSite=Lax${secure}`;
}

function cookieValue(request: FastifyRequest, name: string): string | undefined {
  for (const part of (request.headers.cookie ?? '').split(';')) {
    const [key, ...value] = part.trim().split('=');
    if (key === name) return value.join('=');
  }
  return undefined;
}

export function oidcRoutes(app: ZodApp, sso: SingleSignOn | undefined) {
  const configured = (): SingleSignOn => {
    if (!sso) throw new AppError('not-found', 'single sign-on is not configured on this PCN Hub (PCN_OIDC_ISSUER)');
    return sso;
  };

  app.get(
    '/api/auth/oidc/start',
    {
      config: PUBLIC,
      schema: {
        summary: 'Single sign-on: sends the browser to the identity provider',
        tags: ['access'],
        querystring: z.object({ next: z.string().max(2000).optional() }),
      },
    },
    async (request, reply) => {
      const provider = configured();
      const redirectUri = provider.redirectUrl ?? `${request.protocol}://${request.host}${CALLBACK_PATH}`;
      const { url, state } = await provider.start(app.db, { redirectUri, returnTo: safeReturn(request.query.next) });
      return reply.header('set-cookie', stateCookie(request, state, 600)).redirect(url, 302);
    },
  );

  app.get(CALLBACK_PATH, { config: PUBLIC, schema: { summary: 'Single sign-on: the identity provider’s answer', tags: ['access'] } }, async (request, reply) => {
    const back = (to: string) => reply.header('set-cookie', stateCookie(request, '', 0)).redirect(to, 302);
    try {
      const { handover } = await configured().finish(app.db, {
        callbackUrl: `${request.protocol}://${request.host}${request.url}`,
        browserState: cookieValue(request, STATE_COOKIE),
        address: request.ip,
        requestId: request.id,
      });
      return back(`/signin#sso=${handover}`);
    } catch (error) {
      if (error instanceof SsoRefused) return back(`/signin?sso-error=${error.reason}`);
      throw error;
    }
  });

  app.post(
    '/api/auth/oidc/session',
    {
      config: PUBLIC,
      schema: {
        summary: 'Single sign-on: swaps the one-time code for a bearer token, as /api/login gives',
        tags: ['access'],
        body: z.object({ code: z.string().min(1, 'the sign-in code is missing').max(200) }),
      },
    },
    async (request) => {
      configured();
      const { actor, returnTo } = await redeemHandover(app.db, request.body.code);
      return { ...(await newSession(app.db, actor)), next: returnTo };
    },
  );
}
