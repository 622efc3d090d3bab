import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { GraphQLDataSourceProcessOptions } from '@apollo/gateway';
import { CONTEXT_HEADER } from '@beedesk/runtime';
import { createSubgraphAgent, InflightDeduplication, SubgraphDataSource, type GatewayRequestContext } from './subgraph-data-source';
import { workerCount } from './workers';

describe('in-flight deduplication of subgraph fetches', () => {
  let server: Server;
  let url: string;
  const seen: { body: string; context: string }[] = [];
  const agent = createSubgraphAgent();

  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        seen.push({ body, context: String(req.headers[CONTEXT_HEADER]) });
        // Slow enough that concurrent fetches overlap.
        setTimeout(() => {
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ data: { n: seen.length, context: req.headers[CONTEXT_HEADER] } }));
        }, 50);
      });
    });
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`;
  });
  afterAll(async () => {
    await new Promise((done) => server.close(done));
    await agent.close();
  });
  beforeEach(() => (seen.length = 0));

  const fetchOf = (operation: 'query' | 'mutation', query: string, scope: string | undefined, signed = `signed-${scope}`) =>
    ({
      kind: 'incoming operation',
      request: { query, variables: { a: 1 } },
      incomingRequestContext: { operation: { operation } },
      context: { signedContext: signed, requestId: 'r', dedupScope: scope },
    }) as unknown as GraphQLDataSourceProcessOptions<GatewayRequestContext>;

  it('sends one fetch for identical concurrent queries of one caller, each gets its own objects', async () => {
    const dedup = new InflightDeduplication();
    const source = new SubgraphDataSource('s', url, agent, 5_000, dedup);
    const results = await Promise.all([1, 2, 3, 4].map(() => source.process(fetchOf('query', '{ n }', 'tenant-a'))));
    expect(seen).toHaveLength(1);
    expect(dedup.shared).toBe(3);
    expect(new Set(results.map((r) => JSON.stringify(r))).size).toBe(1);
    expect(results[0]).not.toBe(results[1]);
    expect(results[0]!.data).not.toBe(results[1]!.data);
    expect(dedup.size).toBe(0);
    // Nothing is kept once answered: the next one goes out again.
    await source.process(fetchOf('query', '{ n }', 'tenant-a'));
    expect(seen).toHaveLength(2);
  });

  it('never shares between callers, for mutations, different bodies, or without a scope', async () => {
    const source = new SubgraphDataSource('s', url, agent, 5_000, new InflightDeduplication());
    const results = await Promise.all([
      source.process(fetchOf('query', '{ n }', 'tenant-a')),
      source.process(fetchOf('query', '{ n }', 'tenant-b')),
      source.process(fetchOf('query', '{ m: n }', 'tenant-a')),
      source.process(fetchOf('mutation', 'mutation { n }', 'tenant-a')),
      source.process(fetchOf('mutation', 'mutation { n }', 'tenant-a')),
      // a mutation's entity fetches are queries, still not shared
      source.process(fetchOf('mutation', 'query { n }', 'tenant-a')),
      source.process(fetchOf('mutation', 'query { n }', 'tenant-a')),
      source.process(fetchOf('query', '{ x: n }', undefined)),
      source.process(fetchOf('query', '{ x: n }', undefined)),
    ]);
    expect(seen).toHaveLength(9);
    expect((results[1]!.data as { context: string }).context).toBe('signed-tenant-b');
  });
});

describe('--workers', () => {
  it('takes a number or auto', () => {
    expect(workerCount(undefined)).toBe(1);
    expect(workerCount('3')).toBe(3);
    expect(workerCount('auto', 6)).toBe(6);
    expect(() => workerCount('0')).toThrow(/GATEWAY_WORKERS/);
    expect(() => workerCount('two')).toThrow(/GATEWAY_WORKERS/);
  });
});
