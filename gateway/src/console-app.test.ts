import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { consoleAppRoutes, parseConsoleConfig } from './console-app';

// The staff console as a real-mode gateway serves it (GATEWAY_CONSOLE_CONFIG): the built app from
// @beedesk/console's dist/web and its OIDC configuration.
describe('consoleAppRoutes', () => {
  let server: Server;
  let base: string;
  const config = { signIn: 'oidc' as const, issuer: 'https://idp.example/realms/bank', clientId: 'beedesk-console' };

  beforeAll(async () => {
    const routes = consoleAppRoutes(config);
    server = createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      if (!routes.some((serve) => serve(req, res, url))) res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections(); // fetch keeps its connections alive
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('serves the configuration and the app (index.html for its routes) with a CSP that lets it reach the provider', async () => {
    const configResponse = await fetch(`${base}/console/config.json`);
    expect(await configResponse.json()).toEqual(config);
    for (const path of ['/console/', '/console/overview', '/console/callback']) {
      const page = await fetch(`${base}${path}`);
      expect(page.status).toBe(200);
      expect(await page.text()).toContain('console.js');
      expect(page.headers.get('content-security-policy')).toContain("connect-src 'self' ws: wss: https://idp.example");
    }
    expect((await fetch(`${base}/console/console.js`)).status).toBe(200);
    expect((await fetch(`${base}/console/dev-token`, { method: 'POST', body: '{}' })).status).toBe(404);
  });
});

describe('parseConsoleConfig (GATEWAY_CONSOLE_CONFIG)', () => {
  it('takes an OIDC configuration with a claim mapping', () => {
    const text = JSON.stringify({
      signIn: 'oidc',
      issuer: 'https://idp.example',
      clientId: 'c',
      claims: { tenant: 'org', roles: 'groups', roleMap: { admins: 'admin' } },
    });
    expect(parseConsoleConfig(text)).toMatchObject({ ok: true, config: { claims: { roleMap: { admins: 'admin' } } } });
  });

  it.each([
    ['not JSON', '{signIn', /not JSON/],
    ['the development sign-in', JSON.stringify({ signIn: 'development', tenants: ['demo-bank'] }), /signIn/],
    ['no client id', JSON.stringify({ signIn: 'oidc', issuer: 'https://idp.example' }), /clientId/],
    [
      'a role that is not one',
      JSON.stringify({ signIn: 'oidc', issuer: 'https://i.example', clientId: 'c', claims: { roleMap: { x: 'root' } } }),
      /roleMap/,
    ],
  ])('refuses %s, naming what is wrong', (_name, text, message) => {
    expect(parseConsoleConfig(text)).toEqual({ ok: false, message: expect.stringMatching(message) });
  });
});
