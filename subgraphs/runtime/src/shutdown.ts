import type { Logger } from './logger';

type Hook = { name: string; run: () => Promise<void> | void };

/**
 * Graceful shutdown in reverse order of start: what started last (the HTTP server) stops first,
 * so in-flight work can finish against still-open Redis/Kafka connections.
 */
export class Lifecycle {
  private readonly hooks: Hook[] = [];
  private shuttingDown: Promise<boolean> | null = null;

  constructor(private readonly logger: Logger) {}

  get isShuttingDown(): boolean {
    return this.shuttingDown !== null;
  }

  onShutdown(name: string, run: Hook['run']): void {
    this.hooks.push({ name, run });
  }

  /** Runs every hook once; resolves true when all finished cleanly within `timeoutMs`. */
  shutdown(reason: string, timeoutMs: number): Promise<boolean> {
    this.shuttingDown ??= this.runHooks(reason, timeoutMs);
    return this.shuttingDown;
  }

  /** SIGTERM/SIGINT: shut down, then exit 0 (1 when a hook failed or time ran out). */
  installSignalHandlers(timeoutMs: number, exit: (code: number) => void = (code) => process.exit(code)): void {
    for (const signal of ['SIGTERM', 'SIGINT'] as const) {
      process.once(signal, () => {
        void this.shutdown(signal, timeoutMs).then((clean) => exit(clean ? 0 : 1));
      });
    }
  }

  private async runHooks(reason: string, timeoutMs: number): Promise<boolean> {
    this.logger.info({ reason }, 'shutting down');
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), timeoutMs);
    });
    let running = '';
    let finished = false;
    const all = (async () => {
      let clean = true;
      for (const hook of [...this.hooks].reverse()) {
        running = hook.name;
        const started = performance.now();
        try {
          await hook.run();
          this.logger.debug({ hook: hook.name, ms: Math.round(performance.now() - started) }, 'shutdown step done');
        } catch (error) {
          clean = false;
          this.logger.error({ err: error, hook: hook.name }, 'shutdown step failed');
        }
      }
      finished = true;
      return clean;
    })();
    const clean = await Promise.race([all, timedOut]);
    clearTimeout(timer);
    // Which step hung is what an operator needs to fix a slow deploy.
    if (!finished) this.logger.warn({ hook: running, timeoutMs }, 'shutdown timed out waiting for a step');
    this.logger.info({ clean }, clean ? 'shut down cleanly' : 'shut down with errors or timed out');
    return clean;
  }
}
