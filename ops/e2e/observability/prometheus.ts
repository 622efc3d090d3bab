import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The Prometheus server from Debian's `prometheus` package (.ci/run installs it). */
export const PROMETHEUS_BIN = process.env.PROMETHEUS_BIN ?? 'prometheus';

export interface PrometheusTarget {
  job: string;
  /** host:port serving /metrics. */
  address: string;
}

/**
 * A real Prometheus for one test: scrapes `targets` every second (OpenMetrics, exemplars stored),
 * evaluates `ruleFiles`, keeps its data in a temporary directory it deletes on stop.
 */
export class PrometheusServer {
  private child: ChildProcess | null = null;
  private readonly dir = mkdtempSync(join(tmpdir(), 'beedesk-prometheus-'));
  readonly output: string[] = [];
  url = '';

  async start(port: number, targets: PrometheusTarget[], ruleFiles: string[] = []): Promise<void> {
    const config = [
      'global:',
      '  scrape_interval: 1s',
      '  evaluation_interval: 1s',
      ruleFiles.length ? `rule_files:\n${ruleFiles.map((f) => `  - ${JSON.stringify(f)}`).join('\n')}` : '',
      'scrape_configs:',
      ...targets.flatMap((t) => [
        `  - job_name: ${JSON.stringify(t.job)}`,
        `    static_configs:`,
        `      - targets: [${JSON.stringify(t.address)}]`,
      ]),
      '',
    ].join('\n');
    const configFile = join(this.dir, 'prometheus.yml');
    writeFileSync(configFile, config);
    this.url = `http://127.0.0.1:${port}`;
    this.child = spawn(
      PROMETHEUS_BIN,
      [
        `--config.file=${configFile}`,
        `--storage.tsdb.path=${join(this.dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${port}`,
        '--enable-feature=exemplar-storage',
        '--log.level=warn',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const collect = (chunk: Buffer) => this.output.push(chunk.toString('utf8'));
    this.child.stdout!.on('data', collect);
    this.child.stderr!.on('data', collect);
    const exited = new Promise<number | null>((resolve) => this.child!.once('exit', resolve));
    let exitCode: number | null | undefined;
    void exited.then((code) => (exitCode = code));
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      if (exitCode !== undefined) throw new Error(`prometheus exited with ${exitCode}: ${this.output.join('').slice(-2000)}`);
      const ready = await fetch(`${this.url}/-/ready`).then(
        (r) => r.ok,
        () => false,
      );
      if (ready) return;
      await new Promise((r) => setTimeout(r, 200));
    }
    throw new Error(`prometheus not ready: ${this.output.join('').slice(-2000)}`);
  }

  /** An instant query's vector: each series' labels and value. */
  async query(expr: string): Promise<{ metric: Record<string, string>; value: number }[]> {
    const res = await fetch(`${this.url}/api/v1/query?query=${encodeURIComponent(expr)}`);
    const body = (await res.json()) as {
      status: string;
      error?: string;
      data?: { resultType: string; result: { metric: Record<string, string>; value: [number, string] }[] };
    };
    if (body.status !== 'success') throw new Error(`query ${expr} failed: ${body.error}`);
    return (body.data?.result ?? []).map((r) => ({ metric: r.metric, value: Number(r.value[1]) }));
  }

  /** Exemplars stored for a series selector in the last `seconds`. */
  async exemplars(selector: string, seconds = 600): Promise<{ labels: Record<string, string>; value: number }[]> {
    const end = Date.now() / 1000;
    const res = await fetch(
      `${this.url}/api/v1/query_exemplars?query=${encodeURIComponent(selector)}&start=${end - seconds}&end=${end + 5}`,
    );
    const body = (await res.json()) as { status: string; data?: { exemplars: { labels: Record<string, string>; value: string }[] }[] };
    if (body.status !== 'success') throw new Error(`exemplar query ${selector} failed`);
    return (body.data ?? []).flatMap((series) => series.exemplars.map((e) => ({ labels: e.labels, value: Number(e.value) })));
  }

  /** Alerts of the loaded rules (pending or firing). */
  async alerts(): Promise<{ labels: Record<string, string>; state: string }[]> {
    const body = (await (await fetch(`${this.url}/api/v1/alerts`)).json()) as {
      data: { alerts: { labels: Record<string, string>; state: string }[] };
    };
    return body.data.alerts;
  }

  /** Loaded rule groups' names (the rule files parsed by the real server). */
  async ruleGroups(): Promise<string[]> {
    const body = (await (await fetch(`${this.url}/api/v1/rules`)).json()) as { data: { groups: { name: string }[] } };
    return body.data.groups.map((g) => g.name);
  }

  async stop(): Promise<void> {
    const child = this.child;
    this.child = null;
    if (child && child.exitCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5_000))]);
      if (child.exitCode === null) child.kill('SIGKILL');
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}
