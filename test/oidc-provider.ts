/**
 * A real OpenID Connect provider for tests (oidc-provider, in this process, on a port of its own), with
 * synthetic people and their claims, and its development sign-in pages: enter a person's id as the login
 * and any password. Used by the single sign-on API tests and the browser journey.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair } from 'jose';
import Provider from 'oidc-provider';

export const CLIENT_ID = 'pcn-hub';
export const CLIENT_SECRET = 'a client secret only the tests know';
/** A public client: no secret, held to PKCE alone. */
export const PUBLIC_CLIENT_ID = 'pcn-hub-public';
/** CIS2's scopes: roles (`nhsid_nrbac_roles`) and organisations come from the userinfo endpoint. */
export const CIS2_SCOPES = 'openid profile email nationalrbacaccess associatedorgs';

export interface TestProvider {
  issuer: string;
  /** Each person's claims by their id (the login at the provider's page); change them between sign-ins. */
  people: Map<string, Record<string, unknown>>;
  /** The relying party's callback; call before the first sign-in when it was not known at the start. */
  allowRedirect(uri: string): void;
  close(): Promise<void>;
}

export async function startOidcProvider(options: { redirectUri?: string } = {}): Promise<TestProvider> {
  let handle: ((request: IncomingMessage, response: ServerResponse) => void) | undefined;
  const server = createServer((request, response) => (handle ? handle(request, response) : response.writeHead(503).end('no relying party registered yet')));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const { privateKey } = await generateKeyPair('RS256', { extractable: true });
  const signingKey = { ...(await exportJWK(privateKey)), kid: 'test-signing-key', alg: 'RS256', use: 'sig' };
  const people = new Map<string, Record<string, unknown>>();

  const allowRedirect = (uri: string) => {
    const client = { redirect_uris: [uri], response_types: ['code'], grant_types: ['authorization_code'] };
    const provider = new Provider(issuer, {
      clients: [
        { ...client, client_id: CLIENT_ID, client_secret: CLIENT_SECRET, token_endpoint_auth_method: 'client_secret_post' },
        { ...client, client_id: PUBLIC_CLIENT_ID, token_endpoint_auth_method: 'none' },
      ],
      jwks: { keys: [signingKey] },
      cookies: { keys: ['a cookie key only the tests know'], long: { sameSite: 'lax' } },
      pkce: { required: () => true, methods: ['S256'] },
      ttl: { Interaction: 600, Session: 3600, Grant: 3600, AccessToken: 600, IdToken: 600, AuthorizationCode: 60 },
      scopes: CIS2_SCOPES.split(' '),
      claims: {
        openid: ['sub'],
        email: ['email', 'email_verified'],
        profile: ['name', 'given_name', 'family_name'],
        nationalrbacaccess: ['nhsid_nrbac_roles', 'selected_roleid'],
        associatedorgs: ['nhsid_user_orgs'],
      },
      async findAccount(_ctx, id) {
        const claims = people.get(id);
        return claims ? { accountId: id, claims: async () => ({ ...claims, sub: id }) } : undefined;
      },
    });
    handle = provider.callback();
  };
  if (options.redirectUri) allowRedirect(options.redirectUri);

  return {
    issuer,
    people,
    allowRedirect,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/**
 * A person signs in at the provider without a browser: follows its redirects, fills its development
 * sign-in page with `login` and confirms its consent page, keeping its cookies; returns the URL the
 * provider sent them back to (the relying party's callback).
 */
export async function signInAtProvider(provider: TestProvider, authorizationUrl: string, login: string): Promise<string> {
  const cookies = new Map<string, string>();
  let url = authorizationUrl;
  let form: URLSearchParams | undefined;
  for (let hop = 0; hop < 20; hop++) {
    const response = await fetch(url, {
      method: form ? 'POST' : 'GET',
      body: form,
      redirect: 'manual',
      headers: { cookie: [...cookies].map(([name, value]) => `${name}=${value}`).join('; ') },
    });
    for (const cookie of response.headers.getSetCookie()) {
      const [name = '', value = ''] = cookie.split(';')[0]!.split(/=(.*)/);
      if (value) cookies.set(name, value);
      else cookies.delete(name);
    }
    const location = response.headers.get('location');
    if (location) {
      url = new URL(location, url).href;
      form = undefined;
      if (!url.startsWith(provider.issuer)) return url;
      continue;
    }
    const page = await response.text();
    const action = /<form[^>]*action="([^"]+)"/.exec(page)?.[1];
    const prompt = /name="prompt" value="(\w+)"/.exec(page)?.[1];
    if (!action || !prompt) throw new Error(`the provider answered ${response.status} without a form: ${page.slice(0, 500)}`);
    url = new URL(action, url).href;
    form = new URLSearchParams(prompt === 'login' ? { prompt, login, password: 'any password' } : { prompt });
  }
  throw new Error('the provider never sent the person back');
}
