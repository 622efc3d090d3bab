import cluster, { type Worker } from 'node:cluster';
import { availableParallelism } from 'node:os';

/**
 * `--workers N` / GATEWAY_WORKERS: how many gateway processes share the port (node:cluster).
 * `auto` is one per available core; 1 (the default) is a single process, no primary.
 */
export function workerCount(raw: string | undefined, cores = availableParallelism()): number {
  const value = (raw ?? '1').trim();
  if (value === 'auto') return Math.max(1, cores);
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 256)
    throw new Error(`GATEWAY_WORKERS must be a whole number from 1 to 256 or "auto", got ${raw}`);
  return n;
}

const RESTART_DELAY_MS = 1_000;

/**
 * The cluster primary: forks `count` workers (each runs the whole gateway and listens on the same
 * port; the primary hands out connections round-robin), restarts a worker that dies after the
 * gateway was up, and on SIGTERM/SIGINT passes the signal on, waits for every worker to finish its
 * graceful shutdown and exits 0. A worker that fails before it listens (configuration, supergraph)
 * stops the whole gateway with that worker's exit code, as the single-process gateway would exit.
 * The primary loads nothing of the gateway itself.
 */
export function runPrimary(count: number, log: (message: string) => void = (m) => process.stderr.write(`gateway: ${m}\n`)): void {
  let stopping = false;
  let listening = 0;
  const live = new Set<Worker>();
  const up = new WeakSet<Worker>();

  const fork = () => {
    const worker = cluster.fork();
    live.add(worker);
    worker.once('listening', () => {
      listening++;
      up.add(worker);
    });
    worker.once('exit', (code, signal) => {
      live.delete(worker);
      const wasUp = up.has(worker);
      if (stopping) {
        if (live.size === 0) process.exit(0);
        return;
      }
      if (!wasUp && listening === 0) {
        // Never came up: the same failure would hit every worker.
        stopping = true;
        for (const other of live) other.process.kill('SIGTERM');
        process.exit(typeof code === 'number' && code !== 0 ? code : 1);
      }
      log(`worker ${worker.process.pid} exited (${signal ?? code}); starting another`);
      setTimeout(() => {
        if (!stopping) fork();
      }, RESTART_DELAY_MS).unref();
    });
  };

  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    if (live.size === 0) process.exit(0);
    for (const worker of live) worker.process.kill(signal);
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGTERM'));
  for (let i = 0; i < count; i++) fork();
}
