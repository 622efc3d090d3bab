import { Agent, request } from 'node:http';
import { connect } from 'node:net';
import { Writable } from 'node:stream';
import { createSchema } from 'graphql-yoga';
import { createLogger } from './logger';
import { createMetrics } from './metrics';
import type { BaseContext } from './request-context';
import { createSubgraphServer } from './subgraph-server';
import { signContext } from './signed-context';

describe('subgraph server: unexpected resolver errors', () => {
  const secret = 'unit-test-internal-secret';
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n').filter(Boolean)) lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  const server = createSubgraphServer<BaseContext>({
    name: 'test',
    schema: createSchema({
      typeDefs: 'type Query { boom: String }',
      resolvers: {
        Query: {
          boom: () => {
            throw new Error('database password is hunter2');
          },
        },
      },
    }),
    internalSecret: secret,
    logger: createLogger('test', 'info', { destination }),
    metrics: createMetrics('test', false),
    readiness: async () => ({}),
    createContext: (base) => base,
  });
  let url = '';
  beforeAll(async () => {
    url = `http://127.0.0.1:${await server.listen(0, '127.0.0.1')}/graphql`;
  });
  afterAll(() => server.close());

  it('answers a masked INTERNAL_SERVER_ERROR and logs the cause tagged with the tenant and request id', async () => {
    const context = signContext({ tenantId: 'bank-a', userId: 'u1', roles: ['customer'], requestId: 'req-42' }, secret);
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-beedesk-context': context },
      body: JSON.stringify({ query: '{ boom }' }),
    });
    const body = (await response.json()) as { errors: { message: string; extensions: { code: string } }[] };
    expect(body.errors).toEqual([
      expect.objectContaining({ message: 'Unexpected error.', extensions: expect.objectContaining({ code: 'INTERNAL_SERVER_ERROR' }) }),
    ]);
    expect(JSON.stringify(body)).not.toContain('hunter2');
    const logged = lines.filter((l) => l['msg'] === 'unexpected error in resolver');
    expect(logged).toHaveLength(1);
    expect(logged[0]).toMatchObject({ tenant: 'bank-a', traceId: 'req-42' });
  });
});

describe('subgraph server: graceful close under steady keep-alive traffic', () => {
  /** A minimal subgraph for the close tests. */
  const quietServer = (closeGraceMs?: number) =>
    createSubgraphServer<BaseContext>({
      name: 'test',
      schema: createSchema({ typeDefs: 'type Query { ok: Boolean }', resolvers: { Query: { ok: () => true } } }),
      internalSecret: 'unit-test-internal-secret',
      logger: createLogger('test', 'silent'),
      metrics: createMetrics('test', false),
      readiness: async () => ({}),
      createContext: (base) => base,
      closeGraceMs,
    });
  it('closes promptly while a keep-alive client keeps sending (a gateway under load during a rolling restart)', async () => {
    const server = quietServer();
    const port = await server.listen(0, '127.0.0.1');
    const agent = new Agent({ keepAlive: true, maxSockets: 2 });
    let sending = true;
    const statuses: number[] = [];
    // Two connections kept busy, a request every few ms, as the gateway's keep-alive pool does under load.
    const loop = async () => {
      while (sending) {
        const status = await new Promise<number>((resolve) => {
          const req = request({ host: '127.0.0.1', port, path: '/health/live', agent }, (res) => {
            res.resume();
            res.on('end', () => resolve(res.statusCode ?? 0));
          });
          req.on('error', () => resolve(0));
          req.end();
        });
        statuses.push(status);
        await new Promise((r) => setTimeout(r, 5));
      }
    };
    const clients = [loop(), loop()];
    await new Promise((r) => setTimeout(r, 100));
    const started = Date.now();
    await server.close();
    const closedIn = Date.now() - started;
    sending = false;
    await Promise.all(clients);
    agent.destroy();
    expect(statuses.filter((s) => s === 200).length).toBeGreaterThan(0);
    // Before: the busy connections never went idle, so close() waited until the shutdown timeout.
    expect(closedIn).toBeLessThan(2_000);
  }, 15_000);

  it('closes a connection that never sent a request once the grace has passed (it held rolling restarts for 20 s)', async () => {
    const server = quietServer(200);
    const port = await server.listen(0, '127.0.0.1');
    // A client's pre-opened socket: connected, nothing sent. node:http does not count it as idle.
    const socket = connect(port, '127.0.0.1');
    socket.on('error', () => undefined);
    await new Promise((resolve) => socket.once('connect', resolve));
    const closed = new Promise((resolve) => socket.once('close', resolve));
    const started = Date.now();
    await server.close();
    expect(Date.now() - started).toBeLessThan(2_000);
    await closed;
  }, 10_000);
});
