import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { staticFiles } from './static-files';

describe('staticFiles', () => {
  let server: Server;
  let base: string;

  beforeAll(async () => {
    const parent = mkdtempSync(join(tmpdir(), 'static-files-'));
    const dir = join(parent, 'app');
    mkdirSync(join(dir, 'assets'), { recursive: true });
    writeFileSync(join(dir, 'index.html'), '<!doctype html><title>app</title>');
    writeFileSync(join(dir, 'assets', 'app.js'), 'console.log(1)');
    writeFileSync(join(parent, 'secret.txt'), 'outside');
    const route = staticFiles('/app', dir, { index: 'index.html', headers: { 'content-security-policy': "default-src 'self'" } });
    server = createServer((req, res) => {
      if (!route(req, res, new URL(req.url ?? '/', 'http://test'))) res.writeHead(404).end('not ours');
    });
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((done) => server.close(() => done())));

  it('serves files with their content type and the extra headers', async () => {
    const res = await fetch(`${base}/app/assets/app.js`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(res.headers.get('content-security-policy')).toBe("default-src 'self'");
    expect(await res.text()).toBe('console.log(1)');
  });

  it('serves the index for the prefix and for extension-less paths (client-side routes)', async () => {
    for (const path of ['/app', '/app/', '/app/inbox/42']) {
      const res = await fetch(`${base}${path}`);
      expect(res.status).toBe(200);
      expect(await res.text()).toContain('<title>app</title>');
    }
  });

  it('never leaves its directory and ignores other prefixes and methods', async () => {
    expect((await fetch(`${base}/app/..%2fsecret.txt`)).status).toBe(404);
    expect((await fetch(`${base}/app/%2e%2e/secret.txt`)).status).toBe(404);
    expect((await fetch(`${base}/application/index.html`)).status).toBe(404);
    expect((await fetch(`${base}/app/missing.js`)).status).toBe(404);
    expect((await fetch(`${base}/app/assets/app.js`, { method: 'POST' })).status).toBe(404);
  });
});
