import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { DEFAULT_PORTS, type SubgraphName } from '@beedesk/schema';

export type ServiceName = SubgraphName | 'gateway';
export const SERVICE_ORDER: ServiceName[] = ['tenant', 'session', 'answer', 'inference', 'handoff', 'gateway'];

export const repoRoot = join(__dirname, '..', '..');
export const entryOf = (name: ServiceName): string =>
  name === 'gateway' ? join(repoRoot, 'gateway', 'dist', 'main.js') : join(repoRoot, 'subgraphs', name, 'dist', 'main.js');

export interface RunningProcess {
  name: ServiceName;
  /** The key it is registered under: the service name, or a replica's own name (e.g. `answer-b`). */
  instance: string;
  child: ChildProcess;
  port: number;
  /** Everything the process printed (stdout and stderr), for diagnostics and log assertions. */
  output: string[];
  exited: Promise<number | null>;
}

export interface ClusterOptions {
  /** Environment for every service (REDIS_URL, KAFKA_BROKERS, secrets…). */
  env: NodeJS.ProcessEnv;
  host?: string;
  ports?: Partial<Record<ServiceName, number>>;
  healthTimeoutMs?: number;
  /** Echo service output to this process's stderr. */
  echo?: boolean;
  /** A command the services run under, e.g. `ip netns exec <name>` to run them inside a network namespace. */
  wrapper?: string[];
}

async function healthy(url: string): Promise<boolean> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(1000) });
    await res.arrayBuffer();
    return res.status === 200;
  } catch {
    return false;
  }
}

// Children still running when this process exits (a failed beforeAll, jest's forceExit) would hold their
// ports as orphans and answer the next run's requests: kill them with it.
const liveChildren = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of liveChildren) child.kill('SIGKILL');
});

/** Where a second replica of a service runs: its own name and port. */
export interface ReplicaOptions {
  instance: string;
  port: number;
}

/** Each service as its own OS process (real mode), started, stopped and killed by name. */
export class Cluster {
  /** By instance: the service name, or a replica's name (replicas do not change the gateway's URLs). */
  readonly processes = new Map<string, RunningProcess>();
  private readonly host: string;

  constructor(private readonly options: ClusterOptions) {
    this.host = options.host ?? '127.0.0.1';
  }

  portOf(name: ServiceName): number {
    return this.options.ports?.[name] ?? DEFAULT_PORTS[name];
  }

  urlOf(name: ServiceName): string {
    return `http://${this.host}:${this.portOf(name)}/graphql`;
  }

  /** Environment that points the gateway at this cluster's subgraphs. */
  private subgraphUrls(): NodeJS.ProcessEnv {
    const env: NodeJS.ProcessEnv = {};
    for (const name of SERVICE_ORDER) if (name !== 'gateway') env[`SUBGRAPH_URL_${name.toUpperCase()}`] = this.urlOf(name);
    return env;
  }

  /** Spawns the service and resolves when its /health answers 200; rejects with its output if it exits first. */
  async start(name: ServiceName, extraEnv: NodeJS.ProcessEnv = {}, replica?: ReplicaOptions): Promise<RunningProcess> {
    const port = replica?.port ?? this.portOf(name);
    const instance = replica?.instance ?? name;
    const [program, ...args] = [...(this.options.wrapper ?? []), process.execPath, entryOf(name)];
    const child = spawn(program!, args, {
      env: { ...process.env, ...this.options.env, ...this.subgraphUrls(), HOST: this.host, PORT: String(port), ...extraEnv },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const output: string[] = [];
    const collect = (chunk: Buffer) => {
      const text = chunk.toString('utf8');
      output.push(text);
      if (this.options.echo) process.stderr.write(text);
    };
    child.stdout!.on('data', collect);
    child.stderr!.on('data', collect);
    liveChildren.add(child);
    const exited = new Promise<number | null>((resolve) =>
      child.once('exit', (code) => {
        liveChildren.delete(child);
        resolve(code);
      }),
    );
    const running: RunningProcess = { name, instance, child, port, output, exited };
    this.processes.set(instance, running);
    const deadline = Date.now() + (this.options.healthTimeoutMs ?? 30_000);
    let exitCode: number | null | undefined;
    void exited.then((code) => (exitCode = code));
    while (Date.now() < deadline) {
      if (exitCode !== undefined) throw new Error(`${name} exited with code ${exitCode}:\n${output.join('').slice(-3000)}`);
      if (await healthy(`http://${this.host}:${port}/health`)) return running;
      await new Promise((r) => setTimeout(r, 100));
    }
    child.kill('SIGKILL');
    this.processes.delete(instance);
    throw new Error(`${name} did not become healthy on port ${port}:\n${output.join('').slice(-3000)}`);
  }

  /** Starts every service; when one fails, stops those already started before rethrowing. */
  async startAll(): Promise<void> {
    try {
      const started = await Promise.allSettled(SERVICE_ORDER.filter((n) => n !== 'gateway').map((n) => this.start(n)));
      const failed = started.find((result): result is PromiseRejectedResult => result.status === 'rejected');
      if (failed) throw failed.reason;
      await this.start('gateway');
    } catch (error) {
      await this.stopAll();
      throw error;
    }
  }

  /** Sends `signal` and waits for the exit code; `name` is a service or a replica's instance name. */
  async stop(name: string, signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
    const running = this.processes.get(name);
    if (!running) return null;
    this.processes.delete(name);
    if (running.child.exitCode !== null || running.child.signalCode !== null) return running.child.exitCode;
    running.child.kill(signal);
    return running.exited;
  }

  async stopAll(): Promise<void> {
    for (const name of [...SERVICE_ORDER].reverse()) await this.stop(name);
    for (const instance of [...this.processes.keys()].reverse()) await this.stop(instance);
  }
}
