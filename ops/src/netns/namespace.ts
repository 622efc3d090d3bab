import { spawnSync } from 'node:child_process';

/**
 * A network namespace joined to the host by a veth pair (a separate host, as far as networking goes):
 * the host end `<name>h` gets `hostAddress`, the inside end `<name>n` gets `innerAddress`, a /30 of
 * 10.231.0.0/16 chosen by `block`.
 * `cut()` takes the host end down (no packet crosses, connections stall as on a partitioned network),
 * `restore()` brings it back. Needs root and iproute2; `unavailable()` says why not, for a clear skip.
 */
export class NetworkNamespace {
  readonly hostAddress: string;
  readonly innerAddress: string;
  private readonly hostEnd: string;
  private readonly innerEnd: string;

  constructor(
    readonly name: string,
    /** Which /30 of 10.231.0.0/16 (0–16383): a scenario's own (e.g. from its port), so parallel checkouts do not collide. */
    block: number,
  ) {
    if (name.length > 14) throw new Error(`namespace name ${name} too long for its veth names (15 characters)`);
    this.hostEnd = `${name}h`;
    this.innerEnd = `${name}n`;
    const n = block % 16384;
    const [third, fourth] = [n >> 6, (n & 63) * 4];
    this.hostAddress = `10.231.${third}.${fourth + 1}`;
    this.innerAddress = `10.231.${third}.${fourth + 2}`;
  }

  /** Why namespaces cannot be used here, or null when they can. */
  static unavailable(): string | null {
    if (process.getuid?.() !== 0) return 'not running as root (ip netns needs CAP_SYS_ADMIN)';
    const probe = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' });
    if (probe.error || probe.status !== 0) return `iproute2's ip is not usable: ${probe.error?.message ?? probe.stderr}`;
    return null;
  }

  /** Creates it afresh (a namespace of the same name left by a killed run is removed first). */
  create(): void {
    this.destroy();
    ip('netns', 'add', this.name);
    ip('link', 'add', this.hostEnd, 'type', 'veth', 'peer', 'name', this.innerEnd);
    ip('link', 'set', this.innerEnd, 'netns', this.name);
    ip('addr', 'add', `${this.hostAddress}/30`, 'dev', this.hostEnd);
    ip('link', 'set', this.hostEnd, 'up');
    this.inside('ip', 'addr', 'add', `${this.innerAddress}/30`, 'dev', this.innerEnd);
    this.inside('ip', 'link', 'set', this.innerEnd, 'up');
    this.inside('ip', 'link', 'set', 'lo', 'up');
  }

  /** The command prefix that runs a program inside the namespace. */
  exec(): string[] {
    return ['ip', 'netns', 'exec', this.name];
  }

  cut(): void {
    ip('link', 'set', this.hostEnd, 'down');
  }

  restore(): void {
    ip('link', 'set', this.hostEnd, 'up');
  }

  /** Removes the namespace and the veth pair; safe to call when they do not exist. */
  destroy(): void {
    spawnSync('ip', ['netns', 'del', this.name]);
    // Deleting the namespace deletes its end; the pair goes with it, unless the host end was never moved.
    spawnSync('ip', ['link', 'del', this.hostEnd]);
  }

  exists(): boolean {
    return spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' })
      .stdout.split('\n')
      .some((line) => line.split(' ')[0] === this.name);
  }

  private inside(...command: string[]): void {
    ip('netns', 'exec', this.name, ...command);
  }
}

function ip(...args: string[]): void {
  const run = spawnSync('ip', args, { encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`ip ${args.join(' ')} failed: ${run.stderr || run.error?.message}`);
}
