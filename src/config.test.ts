import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { buildApp } from './http/app.ts';
import { loadConfig } from './config.ts';
import { VERSION } from './version.ts';
import { testDb } from '../test/db.ts';
import { runPcn } from '../test/cli.ts';

test('PCN_EXPORT_DIR is read by config.ts; without it exports go under the system temp', () => {
  assert.equal(loadConfig({ PCN_EXPORT_DIR: '/srv/pcn/exports' }).exportDir, '/srv/pcn/exports');
  const fallback = loadConfig({}).exportDir;
  assert.ok(fallback.startsWith(tmpdir()), fallback);
  assert.notEqual(fallback, '/srv/pcn/exports');
});

test('the server listens on this machine only unless HOST says otherwise; an empty setting means the default', () => {
  assert.equal(loadConfig({}).host, '127.0.0.1');
  assert.equal(loadConfig({ HOST: '' }).host, '127.0.0.1');
  assert.equal(loadConfig({ HOST: '0.0.0.0' }).host, '0.0.0.0');
  assert.equal(loadConfig({ HOST: '0.0.0.0' }, { host: '::1' }).host, '::1', '--host wins over HOST');
  assert.equal(loadConfig({ PCN_DATA_DIR: '' }).dataDir, './pcn-data');
  assert.equal(loadConfig({ PCN_DATA_DIR: '/srv/pcn' }).dataDir, '/srv/pcn');
});

test("one version: pcn --version, the OpenAPI document and the CapabilityStatement all show package.json's", async () => {
  const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
  assert.equal(VERSION, version);
  const cli = await runPcn(['--version'], { cwd: tmpdir(), env: {} });
  assert.equal(cli.code, 0, cli.stderr);
  assert.equal(cli.stdout, `${version}\n`);
  const db = await testDb();
  const app = await buildApp({ db, logger: false });
  try {
    const openApi = (await app.inject('/api/openapi.json')).json<{ info: { version: string } }>();
    const metadata = (await app.inject('/fhir/metadata')).json<{ software: { version: string } }>();
    assert.equal(openApi.info.version, version);
    assert.equal(metadata.software.version, version);
  } finally {
    await app.close();
    await db.close();
  }
});

test('single sign-on is configured by PCN_OIDC_*: off without an issuer, and a wrong setting stops the start naming it', () => {
  assert.equal(loadConfig({}).oidc, undefined);
  const cis2 = loadConfig({
    PCN_OIDC_ISSUER: 'https://am.nhsint.auth-ptl.cis2.spineservices.nhs.uk/openam/oauth2/realms/root/realms/NHSIdentity/realms/Healthcare',
    PCN_OIDC_CLIENT_ID: 'pcn-hub',
    PCN_OIDC_SCOPES: 'openid profile email nationalrbacaccess associatedorgs',
    PCN_OIDC_ROLE_CLAIM: 'nhsid_nrbac_roles',
    PCN_OIDC_ROLE_MAP: '{"R8000":"gp","R8001":"nurse"}',
    PCN_OIDC_TRUST_EMAIL: 'true',
  }).oidc;
  assert.deepEqual(
    { ...cis2, issuer: undefined },
    {
      issuer: undefined,
      clientId: 'pcn-hub',
      clientSecret: undefined,
      redirectUrl: undefined,
      scopes: 'openid profile email nationalrbacaccess associatedorgs',
      label: 'Sign in with NHS Care Identity',
      createUsers: false,
      trustEmail: true,
      roleClaim: 'nhsid_nrbac_roles',
      orgClaim: undefined,
      roleMap: { R8000: 'gp', R8001: 'nurse' },
    },
  );
  assert.equal(loadConfig({ PCN_OIDC_ISSUER: 'https://idp.trust.example', PCN_OIDC_CLIENT_ID: 'x', PCN_OIDC_CREATE_USERS: 'on' }).oidc?.createUsers, true);
  assert.throws(() => loadConfig({ PCN_OIDC_ISSUER: 'https://idp.trust.example' }), /PCN_OIDC_CLIENT_ID is needed/);
  assert.throws(() => loadConfig({ PCN_OIDC_ISSUER: 'idp.trust.example', PCN_OIDC_CLIENT_ID: 'x' }), /PCN_OIDC_ISSUER must be/);
  assert.throws(() => loadConfig({ PCN_OIDC_ISSUER: 'https://idp.trust.example', PCN_OIDC_CLIENT_ID: 'x', PCN_OIDC_ROLE_MAP: '["gp"]' }), /PCN_OIDC_ROLE_MAP must be a JSON object/);
  assert.throws(() => loadConfig({ PCN_OIDC_ISSUER: 'https://idp.trust.example', PCN_OIDC_CLIENT_ID: 'x', PCN_OIDC_CREATE_USERS: 'yes please' }), /PCN_OIDC_CREATE_USERS must be true or false/);
});
