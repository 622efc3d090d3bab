/**
 * Small process helpers shared by the benchmark driver and its child scripts. No heavy imports here:
 * the gateway child scripts load this, and anything it pulls in would count against their RSS.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

export const HOST = '127.0.0.1';

export function argValue(argv: readonly string[], flag: string): string | undefined {
  const i = argv.indexOf(flag);
  if (i >= 0) return argv[i + 1];
  const prefixed = argv.find((a) => a.startsWith(`${flag}=`));
  return prefixed?.slice(flag.length + 1);
}

/** Exit with the parent: a forked child whose IPC channel closes, or on SIGTERM/SIGINT. */
export function exitWithParent(onExit: () => void = () => undefined): void {
  const stop = () => {
    onExit();
    process.exit(0);
  };
  if (process.send) process.on('disconnect', stop);
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

let ticks: number | undefined;
/** Kernel clock ticks per second (utime/stime unit in /proc/<pid>/stat); 100 on practically every Linux. */
export function clockTicks(): number {
  if (ticks === undefined) {
    try {
      ticks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      ticks = 100;
    }
  }
  return ticks;
}

/** The fields of /proc/<pid>/stat after the command name (field 3, state, is index 0); undefined once gone. */
function statFields(pid: number): string[] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) is in parentheses and may itself contain spaces or parentheses.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

/** User + system CPU time of one process so far, in milliseconds (0 once it has gone). */
export function cpuMs(pid: number): number {
  const f = statFields(pid);
  if (!f) return 0;
  // utime is field 14, stime field 15 → indexes 11 and 12 here.
  return ((Number(f[11]) + Number(f[12])) * 1000) / clockTicks();
}

/** Resident set size of one process, in KiB (0 once it has gone). */
export function rssKb(pid: number): number {
  try {
    const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m?.[1] ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

/** The process and all its living descendants (a gateway may fork workers). */
export function processTree(root: number): number[] {
  const children = new Map<number, number[]>();
  let entries: string[] = [];
  try {
    entries = readdirSync('/proc');
  } catch {
    return [root];
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    const ppid = Number(statFields(pid)?.[1]);
    if (!Number.isInteger(ppid)) continue;
    const list = children.get(ppid);
    if (list) list.push(pid);
    else children.set(ppid, [pid]);
  }
  const tree: number[] = [];
  const queue = [root];
  while (queue.length > 0) {
    const pid = queue.shift() as number;
    tree.push(pid);
    queue.push(...(children.get(pid) ?? []));
  }
  return tree;
}

export const sum = (values: readonly number[]): number => values.reduce((a, b) => a + b, 0);

/** CPU time of the whole machine so far, busy (everything but idle and iowait) in milliseconds. */
export function machineBusyMs(): number {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0] ?? '';
    const [, ...fields] = line.trim().split(/\s+/);
    const values = fields.map(Number);
    // user nice system idle iowait irq softirq steal (guest time is already in user/nice)
    const busy = sum(values.slice(0, 8)) - (values[3] ?? 0) - (values[4] ?? 0);
    return (busy * 1000) / clockTicks();
  } catch {
    return Number.NaN;
  }
}
