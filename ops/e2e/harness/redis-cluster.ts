import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Cluster } from 'ioredis';

const script = resolve(__dirname, '../../redis/cluster.sh');

/**
 * A six-node Redis Cluster (three masters, three replicas) of real redis-server processes, started by
 * ops/redis/cluster.sh on `firstPort`..+5 (cluster bus on port+10000) and stopped by the scenario.
 */
export class LocalRedisCluster {
  readonly dir: string;
  seeds = '';

  constructor(
    readonly firstPort: number,
    private readonly nodeTimeoutMs = 2000,
  ) {
    this.dir = `/tmp/beedesk-e2e-redis-cluster-${firstPort}`;
  }

  private run(command: 'start' | 'stop' | 'nodes'): string {
    const result = spawnSync('bash', [script, command], {
      env: {
        ...process.env,
        REDIS_CLUSTER_PORT: String(this.firstPort),
        REDIS_CLUSTER_DIR: this.dir,
        REDIS_CLUSTER_NODE_TIMEOUT: String(this.nodeTimeoutMs),
      },
      encoding: 'utf8',
    });
    if (result.status !== 0) throw new Error(`redis cluster.sh ${command} failed: ${result.stderr}`);
    return result.stdout;
  }

  start(): string {
    this.seeds = this.run('start').trim().split('\n').pop()!;
    return this.seeds;
  }

  stop(): void {
    this.run('stop');
  }

  /** A client of our own (the test's reads: slots, node roles, SCAN per master). */
  client(): Cluster {
    return new Cluster(
      this.seeds.split(',').map((s) => ({ host: '127.0.0.1', port: Number(s.split(':')[1]) })),
      { retryDelayOnFailover: 200, retryDelayOnClusterDown: 200 },
    );
  }

  /** Port of the master that serves `slot` now, per CLUSTER SLOTS. */
  async masterOfSlot(client: Cluster, slot: number): Promise<number> {
    const ranges = await client.cluster('SLOTS');
    const master = ranges.find(([from, to]) => slot >= from && slot <= to)?.[2];
    if (!master) throw new Error(`slot ${slot} has no master`);
    return master[1];
  }

  async slotOf(client: Cluster, tenant: string): Promise<number> {
    return Number(await client.cluster('KEYSLOT', `{${tenant}}`));
  }

  /** SIGKILLs the node on `port` (a crash: nothing flushed, no goodbye to the cluster). */
  kill(port: number): void {
    const pid = Number(readFileSync(`${this.dir}/${port}/redis.pid`, 'utf8'));
    process.kill(pid, 'SIGKILL');
  }

  /** Resolves when another node serves `slot` and the cluster says ok, or throws after `timeoutMs`. */
  async waitForNewMaster(client: Cluster, slot: number, oldPort: number, timeoutMs = 30_000): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const view = this.run('nodes');
      const line = view.split('\n').find((l) => / master /.test(l) && !l.includes('fail') && slotIn(l, slot));
      const port = line ? Number(/127\.0\.0\.1:(\d+)@/.exec(line)![1]) : oldPort;
      if (port !== oldPort) {
        await client.ping().catch(() => undefined);
        return port;
      }
      await new Promise((r) => setTimeout(r, 200));
    }
    throw new Error(`no replica took over slot ${slot} within ${timeoutMs} ms`);
  }
}

function slotIn(nodesLine: string, slot: number): boolean {
  return nodesLine
    .split(' ')
    .slice(8)
    .some((range) => {
      const [from, to] = range.split('-').map(Number);
      return slot >= from! && slot <= (to ?? from)!;
    });
}
