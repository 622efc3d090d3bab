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
