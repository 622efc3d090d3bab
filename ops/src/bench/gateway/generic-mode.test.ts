/**
 * Generic mode (`gateway/dist/main.js --supergraph <file> --auth none`) answers exactly as plain
 * @apollo/gateway in @apollo/server does, error for error, over real HTTP: the federation of
 * generic-federation.ts (four yoga subgraphs on loopback ports, composed with @apollo/composition)
 * behind both, every operation sent to each and the responses compared. Needs the gateway built
 * (`npm run build`), like the benchmark.
 */
import { ApolloGateway } from '@apollo/gateway';
import { ApolloServer } from '@apollo/server';
import { startStandaloneServer } from '@apollo/server/standalone';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createYoga } from 'graphql-yoga';
import {
  composeGenericSupergraph,
  GENERIC_OPERATIONS,
  GENERIC_SUBGRAPHS,
  genericSubgraphSchema,
  type GenericSubgraph,
} from './generic-federation';

jest.setTimeout(60_000);

const HOST = '127.0.0.1';
const GATEWAY_MAIN = resolve(__dirname, '..', '..', '..', '..', 'gateway', 'dist', 'main.js');

const servers: Server[] = [];
let ours: ChildProcess | undefined;
let apollo: ApolloServer | undefined;
let oursUrl = '';
let apolloUrl = '';
let dir = '';

/** Requests each subgraph received, by name. */
const fetches: Record<string, number> = {};

async function listenOn(server: Server, port = 0): Promise<number> {
  await new Promise<void>((done, fail) => {
    server.once('error', fail);
    server.listen(port, HOST, () => done());
  });
  return (server.address() as AddressInfo).port;
}

async function freePort(): Promise<number> {
  const probe = createServer();
  const port = await listenOn(probe);
  await new Promise((done) => probe.close(done));
  return port;
}

async function startSubgraph(name: GenericSubgraph): Promise<string> {
  const yoga = createYoga({
    schema: genericSubgraphSchema(name),
    graphqlEndpoint: '/graphql',
    graphiql: false,
    landingPage: false,
    logging: false,
  });
  const server = createServer((req, res) => {
    fetches[name] = (fetches[name] ?? 0) + 1;
    if (name === 'reviews' && req.method === 'POST') {
      // The reviews subgraph fails with HTTP 500 (and a GraphQL body) for `brokenSubgraph`.
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString();
        if (body.includes('brokenSubgraph')) {
          res.writeHead(500, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ errors: [{ message: 'reviews crashed', extensions: { code: 'REVIEWS_CRASHED' } }] }));
          return;
        }
        void Promise.resolve(
          yoga.fetch(`http://${HOST}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body }),
        ).then(async (r: Response) => {
          res.writeHead(r.status, { 'content-type': r.headers.get('content-type') ?? 'application/json' });
          res.end(await r.text());
        });
      });
      return;
    }
    void yoga(req, res);
  });
  servers.push(server);
  const port = await listenOn(server);
  return `http://${HOST}:${port}/graphql`;
}

async function waitHealthy(url: string, child: ChildProcess, log: () => string): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`our gateway exited (${child.exitCode}):\n${log()}`);
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`our gateway did not become healthy:\n${log()}`);
}

beforeAll(async () => {
  const urls = {} as Record<GenericSubgraph, string>;
  for (const name of GENERIC_SUBGRAPHS) urls[name] = await startSubgraph(name);
  const supergraphSdl = composeGenericSupergraph((name) => urls[name]);
  dir = mkdtempSync(join(tmpdir(), 'generic-gateway-'));
  const file = join(dir, 'supergraph.graphql');
  writeFileSync(file, supergraphSdl);

  const port = await freePort();
  let output = '';
  ours = spawn(process.execPath, [GATEWAY_MAIN, '--supergraph', file, '--auth', 'none', '--port', String(port), '--host', HOST], {
    env: { ...process.env, NODE_ENV: 'development', LOG_LEVEL: 'warn', GATEWAY_WORKERS: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  ours.stdout?.on('data', (c: Buffer) => (output += c.toString()));
  ours.stderr?.on('data', (c: Buffer) => (output += c.toString()));
  oursUrl = `http://${HOST}:${port}/graphql`;

  apollo = new ApolloServer({
    gateway: new ApolloGateway({ supergraphSdl, logger: quietLogger }),
    includeStacktraceInErrorResponses: false,
  });
  const started = await startStandaloneServer(apollo, { listen: { port: 0, host: HOST } });
  apolloUrl = started.url.endsWith('/') ? started.url : `${started.url}/`;
  await waitHealthy(`http://${HOST}:${port}/health`, ours, () => output);
});

afterAll(async () => {
  if (ours && ours.exitCode === null) {
    const exited = new Promise((done) => ours!.once('exit', done));
    ours.kill('SIGTERM');
    await exited;
  }
  await apollo?.stop();
  await Promise.all(servers.map((s) => new Promise((done) => s.close(done))));
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const quietLogger = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };

async function post(url: string, body: unknown): Promise<{ status: number; body: unknown }> {
  // apollo-require-preflight: Apollo Server's CSRF prevention wants it on non-JSON requests only, harmless here.
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'apollo-require-preflight': 'true' },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: JSON.parse(await res.text()) as unknown };
}

describe('generic mode answers as @apollo/gateway does', () => {
  it.each(GENERIC_OPERATIONS.map((op) => [op.name, op] as const))('%s', async (_name, op) => {
    const request = { query: op.query, variables: op.variables };
    const [mine, theirs] = await Promise.all([post(oursUrl, request), post(apolloUrl, request)]);
    // Same data, same errors (messages, paths, locations, extensions), same order.
    expect(mine.body).toEqual(theirs.body);
    expect(JSON.stringify(mine.body)).toBe(JSON.stringify(theirs.body));
    // Both answer 200 with a result once the operation is valid; request errors are 400 for both.
    expect(mine.status).toBe(theirs.status);
  });
});
