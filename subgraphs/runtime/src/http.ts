import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { ServiceMetrics } from './metrics';

export type Readiness = () => Promise<Record<string, string>>;

/** `/health`: 200 when every dependency answers `ok`, 503 otherwise (and while draining). */
export async function serveHealth(res: ServerResponse, readiness: Readiness, draining: boolean): Promise<void> {
  let checks: Record<string, string>;
  try {
    checks = draining ? { server: 'draining' } : await readiness();
  } catch (error) {
    checks = { readiness: (error as Error).message };
  }
  const ok = Object.values(checks).every((v) => v === 'ok');
  res.writeHead(ok ? 200 : 503, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ status: ok ? 'ok' : 'unavailable', checks }));
}

/** `/metrics`; a collector that fails (e.g. Kafka unreachable for the lag gauge) answers 500, never crashes. */
export async function serveMetrics(res: ServerResponse, metrics: ServiceMetrics): Promise<void> {
  let body: string;
  try {
    body = await metrics.registry.metrics();
  } catch (error) {
    res.writeHead(500, { 'content-type': 'text/plain' });
    res.end(`metrics unavailable: ${(error as Error).message}\n`);
    return;
  }
  res.writeHead(200, { 'content-type': metrics.registry.contentType });
  res.end(body);
}

const KNOWN_ROUTES = new Set(['/graphql', '/health', '/metrics']);
/** Metric label of a path: arbitrary paths must not grow the registry without bound. */
export const routeLabel = (route: string): string => (KNOWN_ROUTES.has(route) ? route : 'other');

export function routeOf(req: IncomingMessage): string {
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  return q === -1 ? url : url.slice(0, q);
}

export function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      const address = server.address();
      resolve(typeof address === 'object' && address ? address.port : port);
    });
  });
}

/** Stops accepting, lets in-flight requests finish, then drops idle keep-alive sockets. */
export function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) return resolve();
    server.close(() => resolve());
    server.closeIdleConnections();
  });
}
