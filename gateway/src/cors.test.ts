import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { corsPolicyOf, handleCors, type CorsPolicy } from './cors';

describe('CORS_ORIGINS', () => {
  it('defaults to any origin in development and to none elsewhere', () => {
    expect(corsPolicyOf(undefined, 'development')).toEqual({ anyOrigin: true });
    expect(corsPolicyOf(undefined, 'production')).toBeNull();
    expect(corsPolicyOf(undefined, 'test')).toBeNull();
    expect(corsPolicyOf('', 'development')).toBeNull();
  });

  it('takes `*` or a comma list of origins, and refuses what is not an origin', () => {
    expect(corsPolicyOf('*', 'production')).toEqual({ anyOrigin: true });
    expect(corsPolicyOf(' https://a.example.com , http://localhost:5173/ ', 'production')).toEqual({
      anyOrigin: false,
      origins: new Set(['https://a.example.com', 'http://localhost:5173']),
    });
    expect(() => corsPolicyOf('a.example.com', 'production')).toThrow(/not an origin/);
    expect(() => corsPolicyOf('https://a.example.com/app', 'production')).toThrow(/no path/);
  });
});

// A real HTTP server whose handler runs handleCors first, as the gateway's does.
describe('handleCors over HTTP', () => {
  let server: Server;
  let base = '';
  let policy: CorsPolicy = null;

  beforeAll(async () => {
    server = createServer((req, res) => {
      if (handleCors(req, res, policy)) return;
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"data":{}}');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const preflight = (origin: string) =>
    fetch(base, {
      method: 'OPTIONS',
      headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization, content-type' },
    });

  it('answers an allowed origin’s preflight with the methods and headers it may use', async () => {
    policy = corsPolicyOf('https://app.example.com', 'production');
    const response = await preflight('https://app.example.com');
    expect(response.status).toBe(204);
    expect(response.headers.get('access-control-allow-origin')).toBe('https://app.example.com');
    expect(response.headers.get('access-control-allow-methods')).toBe('GET, POST, OPTIONS');
    expect(response.headers.get('access-control-allow-headers')).toBe('authorization, content-type, x-api-key, x-request-id');
    expect(response.headers.get('access-control-max-age')).toBe('600');
    expect(response.headers.get('vary')).toMatch(/^Origin/);
  });

  it('refuses another origin’s preflight and sends it no CORS headers', async () => {
    policy = corsPolicyOf('https://app.example.com', 'production');
    const response = await preflight('https://evil.example.com');
    expect(response.status).toBe(403);
    expect(response.headers.get('access-control-allow-origin')).toBeNull();
    const actual = await fetch(base, { method: 'POST', headers: { origin: 'https://evil.example.com' } });
    expect(actual.status).toBe(200); // served, but the browser will not let the page read it
    expect(actual.headers.get('access-control-allow-origin')).toBeNull();
    expect(actual.headers.get('vary')).toBe('Origin');
  });

  it('marks actual responses for an allowed origin and exposes Retry-After', async () => {
    policy = corsPolicyOf('https://app.example.com', 'production');
    const response = await fetch(base, { method: 'POST', headers: { origin: 'https://app.example.com' } });
    expect(response.headers.get('access-control-allow-origin')).toBe('https://app.example.com');
    expect(response.headers.get('access-control-expose-headers')).toBe('retry-after, x-request-id');
    expect(response.headers.get('vary')).toBe('Origin');
  });

  it('`*` answers any origin with `*`', async () => {
    policy = corsPolicyOf('*', 'production');
    const response = await preflight('https://anyone.example.org');
    expect(response.status).toBe(204);
    expect(response.headers.get('access-control-allow-origin')).toBe('*');
  });

  it('with no policy a preflight is refused, and a plain OPTIONS lists the methods', async () => {
    policy = null;
    expect((await preflight('https://app.example.com')).status).toBe(403);
    const plain = await fetch(base, { method: 'OPTIONS' });
    expect(plain.status).toBe(204);
    expect(plain.headers.get('allow')).toBe('GET, POST, OPTIONS');
  });
});
