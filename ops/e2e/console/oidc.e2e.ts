import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { exportJWK, generateKeyPair } from 'jose';
import type { Browser, Page } from 'playwright-core';
import { mintToken } from '@beedesk/gateway';
import { launchChromium, screenshot, seriousAxeViolations } from '../harness/browser';
import { E2E_JWT_SECRET, e2eEnvironment, e2ePort } from '../harness/cluster';

// The console's OpenID Connect sign-in (authorization code + PKCE) against a real provider (the npm package
// oidc-provider, in a child process), in Chromium, then working with the real gateway, which verifies the
// provider's tokens through its JWKS and maps its claims (`org` → tenant, `groups` → roles) by configuration.
// The console is the real-mode gateway's own (GATEWAY_CONSOLE_CONFIG): /console beside /graphql, one origin.
// Tokens of another issuer or for another audience are refused with UNAUTHENTICATED and a reason.
const e2e = e2eEnvironment('console-oidc', 16360);
const PROVIDER_PORT = e2ePort(16371);
/** A second provider (another organisation's) signing with the same key: only its issuer differs. */
const STRANGER_PORT = e2ePort(16372);
const TENANT = 'oidc-bank';
const SCENARIO = 'console-oidc';
/** The gateway's origin (its port is the scenario's first): it serves the console. */
const CONSOLE_ORIGIN = `http://127.0.0.1:${e2ePort(16360)}`;
/** Where the test itself catches authorization codes (any page of the console's origin; only the URL matters). */
const CATCH_URI = `${CONSOLE_ORIGIN}/console/catch-code`;
const ISSUER = `http://127.0.0.1:${PROVIDER_PORT}`;
const STRANGER = `http://127.0.0.1:${STRANGER_PORT}`;

let browser: Browser;
let page: Page;
const providers: ChildProcess[] = [];

async function startProvider(port: number, jwks: string): Promise<void> {
  const child = spawn(
    process.execPath,
    [join(__dirname, 'oidc-provider.mjs'), String(port), `${CONSOLE_ORIGIN}/console/callback`, CATCH_URI],
    {
      cwd: join(__dirname, '..', '..'),
      env: { ...process.env, OIDC_JWKS: jwks },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  providers.push(child);
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => chunk.toString().includes('ready ') && resolve());
    child.once('exit', (code) => reject(new Error(`the OpenID provider exited (${code}): ${stderr}`)));
  });
}

/** One authorization code + PKCE round through the browser, for `clientId` at `issuer`, caught at CATCH_URI: the ID token. */
async function idTokenFor(issuer: string, clientId: string, login: string): Promise<string> {
  const verifier = randomBytes(32).toString('base64url');
  const authorize = new URL(`${issuer}/auth`);
  for (const [name, value] of Object.entries({
    client_id: clientId,
    redirect_uri: CATCH_URI,
    response_type: 'code',
    scope: 'openid profile beedesk',
    state: 'test',
    code_challenge: createHash('sha256').update(verifier).digest('base64url'),
    code_challenge_method: 'S256',
    // Whoever is signed in at the provider already: ask again, as `login`.
    prompt: 'login',
  }))
    authorize.searchParams.set(name, value);
  const caught = page.waitForURL((url) => url.href.startsWith(CATCH_URI));
  await page.goto(authorize.href);
  await signInAtProvider(login);
  await caught;
  const code = new URL(page.url()).searchParams.get('code');
  if (!code) throw new Error(`no code at ${page.url()}`);
  const response = await fetch(`${issuer}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      code,
      redirect_uri: CATCH_URI,
      client_id: clientId,
      code_verifier: verifier,
    }),
  });
  const body = (await response.json()) as { id_token?: string };
  if (!body.id_token) throw new Error(`no ID token: ${JSON.stringify(body)}`);
  return body.id_token;
}

/** The provider’s development login page (any password), then its consent page. */
async function signInAtProvider(login: string): Promise<void> {
  await page.locator('input[name=login]').fill(login);
  await page.locator('input[name=password]').fill('any password');
  await page.locator('button[type=submit]').click();
  const consent = page.getByRole('button', { name: 'Continue' });
  await consent.click();
}

const gql = (token: string, query: string) =>
  fetch(e2e.gatewayUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query }),
  }).then(async (r) => ({
    status: r.status,
    body: (await r.json()) as { data?: Record<string, unknown>; errors?: { extensions?: Record<string, unknown> }[] },
  }));

beforeAll(async () => {
  const { privateKey } = await generateKeyPair('RS256', { extractable: true });
  const jwks = JSON.stringify({ keys: [{ ...(await exportJWK(privateKey)), kid: 'e2e-1', alg: 'RS256', use: 'sig' }] });
  await Promise.all([startProvider(PROVIDER_PORT, jwks), startProvider(STRANGER_PORT, jwks)]);
  for (const name of ['tenant', 'session', 'answer', 'inference', 'handoff'] as const) await e2e.cluster.start(name);
  await e2e.cluster.start('gateway', {
    GATEWAY_CONSOLE_CONFIG: JSON.stringify({
      signIn: 'oidc',
      issuer: ISSUER,
      clientId: 'beedesk-console',
      scope: 'openid profile beedesk',
      claims: { tenant: 'org', roles: 'groups', roleMap: { 'bank-support-admins': 'admin', 'bank-support': 'agent' } },
    }),
    JWT_JWKS_URL: `${ISSUER}/jwks`,
    JWT_ISSUER: ISSUER,
    JWT_AUDIENCE: 'beedesk-console',
    JWT_TENANT_CLAIM: 'org',
    JWT_ROLES_CLAIM: 'groups',
    JWT_ROLE_MAP: 'bank-support-admins=admin,bank-support=agent',
  });
  // Seeded with a development token (HS256, the e2e secret): it must name the configured issuer and audience too.
  const seeder = await mintToken({
    tenant: TENANT,
    user: 'seeder',
    roles: ['admin'],
    secret: E2E_JWT_SECRET,
    issuer: ISSUER,
    audience: 'beedesk-console',
  });
  const admin = e2e.client(seeder);
  await admin.updateTenant('OIDC Bank');
  await admin.upsertArticle({
    id: 'pin-reset',
    title: 'Reset your PIN',
    body: 'Open the app, go to Card > Security > Reset PIN and follow the steps.',
    questions: ['how do I reset my pin', 'I forgot my PIN', 'change my pin code'],
  });
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1280, height: 860 } });
  page.setDefaultTimeout(15_000);
});

afterAll(async () => {
  await browser?.close();
  await e2e.cluster.stopAll();
  for (const child of providers) child.kill('SIGTERM');
});

describe('console sign-in with a real OpenID provider (authorization code + PKCE)', () => {
  it('signs an admin in through the provider; the gateway takes the provider’s token with its claims mapped', async () => {
    expect(new URL(e2e.gatewayUrl).origin).toBe(CONSOLE_ORIGIN);
    await page.goto(`${CONSOLE_ORIGIN}/console/`);
    await page.getByRole('button', { name: `Continue to 127.0.0.1:${PROVIDER_PORT}` }).click();
    await page.waitForURL((url) => url.href.startsWith(ISSUER));
    // PKCE: the console asked with an S256 challenge.
    await signInAtProvider('olga');
    await page.getByRole('heading', { name: 'Live overview' }).waitFor();
    await page.getByText(`Signed in as olga (admin) at ${TENANT}`).waitFor();
    // The overview's figures come through the gateway with the provider's token (a refused token shows no figures).
    await page.getByText('No questions in the last hour.').first().waitFor();
    await page.getByRole('link', { name: 'Knowledge base' }).click();
    await page.getByText('Reset your PIN').first().waitFor();
    await page.getByRole('link', { name: 'Overview' }).click();
    await page.getByRole('heading', { name: 'Live overview' }).waitFor();
    await screenshot(page, SCENARIO, '01-signed-in-overview');
    const violations = await seriousAxeViolations(page);
    expect(violations).toEqual([]);
    const token = await page.evaluate(() => sessionStorage.getItem('beedesk.console.token'));
    const claims = JSON.parse(Buffer.from(token!.split('.')[1]!, 'base64url').toString()) as Record<string, unknown>;
    expect(claims).toMatchObject({ iss: ISSUER, aud: 'beedesk-console', sub: 'olga', org: TENANT });
    expect(claims.tid).toBeUndefined(); // the gateway mapped `org`, the token has no beedesk claims of its own
  });

  it('maps a group to the agent role: the server refuses an agent’s admin operation', async () => {
    const agent = await idTokenFor(ISSUER, 'beedesk-console', 'oscar');
    const stats = await gql(agent, '{ answerStats { asks } }');
    expect(stats).toMatchObject({ status: 200, body: { data: { answerStats: { asks: 0 } } } });
    await expect(e2e.client(agent).upsertArticle({ title: 'x', body: 'y', questions: ['z'] })).rejects.toMatchObject({ code: 'FORBIDDEN' });
  });

  it.each([
    ['for another audience (another client of the same provider)', () => idTokenFor(ISSUER, 'intranet', 'olga'), 'TOKEN_AUDIENCE_MISMATCH'],
    ['of another issuer (signed with the same key)', () => idTokenFor(STRANGER, 'beedesk-console', 'olga'), 'TOKEN_ISSUER_NOT_TRUSTED'],
  ])('refuses a token %s with UNAUTHENTICATED and a reason', async (_name, token, reason) => {
    const { status, body } = await gql(await token(), '{ answerStats { asks } }');
    expect(status).toBe(401);
    expect(body.errors?.[0]?.extensions).toMatchObject({ code: 'UNAUTHENTICATED', reason });
  });
});
