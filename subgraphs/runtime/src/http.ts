import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { ServiceMetrics } from './metrics';

/** Named checks; the service is ready when every one is `ok` (anything else says what is missing). */
export type Readiness = () => Promise<Record<string, string>>;

/** Liveness, readiness, and `/health` kept as readiness for existing probes and scripts. */
export const HEALTH_ROUTES = { live: '/health/live', ready: '/health/ready', legacy: '/health' } as const;

/** A readiness probe answers within this even when a dependency hangs (e.g. Redis reconnecting). */
export const READINESS_TIMEOUT_MS = 2_000;

/** `check` or, after `timeoutMs`, `no answer within … ms`: a probe never hangs on a dependency. */
export async function withinTime(check: Promise<string>, timeoutMs: number): Promise<string> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<string>((resolve) => {
    timer = setTimeout(() => resolve(`no answer within ${timeoutMs} ms`), timeoutMs);
    timer.unref();
  });
  try {
    return await Promise.race([check, late]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Serves the three health routes, or returns false for any other route. `/health/live`: 200 while the process
 * serves HTTP at all (also while draining: a restart would only cut in-flight work short). `/health/ready` and
 * `/health`: 200 when every readiness check is `ok`, 503 otherwise and while draining.
 */
export function serveHealthRoute(route: string, res: ServerResponse, readiness: Readiness, draining: () => boolean): boolean {
  if (route === HEALTH_ROUTES.live) {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ status: 'ok', checks: { process: draining() ? 'draining' : 'ok' } }));
    return true;
  }
  if (route !== HEALTH_ROUTES.ready && route !== HEALTH_ROUTES.legacy) return false;
  void serveHealth(res, readiness, draining());
  return true;
}

/** Readiness: 200 when every dependency answers `ok`, 503 otherwise (and while draining). */
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

const KNOWN_ROUTES = new Set(['/graphql', '/health', '/health/live', '/health/ready', '/metrics']);
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

export interface CloseOptions {
  /** How long to wait for connections to go away by themselves; then the remaining ones are cut. */
  graceMs: number;
  /** Whether they may be cut when the grace has passed (e.g. nothing in flight); default: yes. */
  mayCut?: () => boolean;
  /** Told, when the grace has passed, how many connections are still open and whether they are cut. */
  onSlow?: (connections: number, cutting: boolean) => void;
}

/**
 * Stops accepting, lets in-flight requests finish, then drops idle keep-alive sockets. node:http waits
 * for a connection that never sent a request (a client's pre-opened socket) until the peer drops it, so
 * with `options` the remaining connections are cut once the grace has passed.
 */
export function closeServer(server: Server, options?: CloseOptions): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) return resolve();
    const grace = options
      ? setTimeout(() => {
          server.getConnections((_error, connections) => {
            const cutting = options.mayCut?.() ?? true;
            options.onSlow?.(connections, cutting);
            if (cutting) server.closeAllConnections();
          });
        }, options.graceMs)
      : undefined;
    grace?.unref();
    server.close(() => {
      clearTimeout(grace);
      resolve();
    });
    server.closeIdleConnections();
  });
}
