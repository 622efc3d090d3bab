/**
 * One benchmark subgraph in its own process: `node subgraph-server.js --name accounts --port 4801`
 * (or env SUBGRAPH_NAME / PORT). graphql-yoga over buildSubgraphSchema, on 127.0.0.1, POST /graphql,
 * GET /health. Exits when its parent goes away (forked with an IPC channel) or on SIGTERM/SIGINT.
 */
import { createServer } from 'node:http';
import { createYoga } from 'graphql-yoga';
import { exitWithParent, HOST, argValue } from './proc';
import { isSubgraphName, subgraphSchema } from './subgraphs';

export interface SubgraphStats {
  name: string;
  /** POST requests received (GraphQL fetches from the gateway). */
  requests: number;
  /** Sum of their content-length headers. */
  bytesIn: number;
}

function main(): void {
  const name = argValue(process.argv, '--name') ?? process.env.SUBGRAPH_NAME ?? '';
  const port = Number(argValue(process.argv, '--port') ?? process.env.PORT);
  if (!isSubgraphName(name) || !Number.isInteger(port) || port <= 0) {
    console.error('usage: subgraph-server --name accounts|products|inventory|reviews --port <port>');
    process.exit(2);
  }

  const yoga = createYoga({
    schema: subgraphSchema(name),
    graphqlEndpoint: '/graphql',
    graphiql: false,
    landingPage: false,
    logging: false,
  });
  // Counted for the driver, which asks over IPC: how many fetches each gateway request costs here.
  const stats: SubgraphStats = { name, requests: 0, bytesIn: 0 };
  process.on('message', (message: unknown) => {
    if (process.send && typeof message === 'object' && message !== null && (message as { type?: unknown }).type === 'stats') {
      process.send({ type: 'stats', ...stats });
    }
  });
  const server = createServer((req, res) => {
    if (req.method === 'POST') {
      stats.requests++;
      stats.bytesIn += Number(req.headers['content-length'] ?? 0) || 0;
    }
    if (req.url === '/health') {
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
      return;
    }
    void yoga(req, res);
  });
  server.keepAliveTimeout = 60_000;
  exitWithParent(() => server.close());
  server.on('error', (err) => {
    console.error(`[${name}] ${err.message}`);
    process.exit(1);
  });
  server.listen(port, HOST, () => {
    if (process.send) process.send({ type: 'ready', name, port });
  });
}

if (require.main === module) main();
