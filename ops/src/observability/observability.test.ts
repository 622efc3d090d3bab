import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '../cluster';

// The shipped operations files (ops/observability): the Prometheus alerting rules, checked and
// unit-tested by Debian's promtool (installed by .ci/run), and the Grafana dashboard's structure,
// queries and metric names.
const dir = join(repoRoot, 'ops', 'observability');
const RULES = join(dir, 'prometheus', 'alerts.yml');
const RULE_TESTS = join(dir, 'prometheus', 'alerts.test.yml');
const DASHBOARD = join(dir, 'grafana', 'beedesk.json');
const PROMTOOL = process.env.PROMTOOL_BIN ?? 'promtool';

/** Metrics the dashboard shows that another package's work provides (the handoff line, issue 17's gauge). */
const PROVIDED_ELSEWHERE = new Set(['beedesk_handoffs_waiting']);

function promtool(...args: string[]): string {
  try {
    return execFileSync(PROMTOOL, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (error) {
    const e = error as { code?: string; stdout?: string; stderr?: string };
    if (e.code === 'ENOENT')
      throw new Error("promtool not found: install Debian's `prometheus` package (apt-get install prometheus), as .ci/run does");
    throw new Error(`promtool ${args.join(' ')} failed:\n${e.stdout ?? ''}${e.stderr ?? ''}`);
  }
}

interface Target {
  refId: string;
  expr: string;
  datasource?: { uid?: string };
}
interface Panel {
  id: number;
  type: string;
  title: string;
  gridPos: { x: number; y: number; w: number; h: number };
  datasource?: { type?: string; uid?: string };
  targets?: Target[];
  fieldConfig?: { defaults?: { unit?: string } };
  panels?: Panel[];
}
interface Dashboard {
  uid: string;
  title: string;
  schemaVersion: number;
  templating: { list: { name: string; type: string; query: unknown }[] };
  panels: Panel[];
}
const dashboard = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as Dashboard;
const graphPanels = dashboard.panels.filter((p) => p.type !== 'row');

/** The alert expressions (`expr:` lines, or their `|` blocks) of the rules file. */
function alertExpressions(): string[] {
  const text = readFileSync(RULES, 'utf8');
  const exprs: string[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const match = /^\s+expr: (\|)?(.*)$/.exec(lines[i]!);
    if (!match) continue;
    if (!match[1]) {
      exprs.push(match[2]!);
      continue;
    }
    const block: string[] = [];
    const indent = /^(\s*)/.exec(lines[i + 1] ?? '')![1]!.length;
    while (i + 1 < lines.length && /^(\s*)/.exec(lines[i + 1]!)![1]!.length >= indent && lines[i + 1]!.trim() !== '')
      block.push(lines[++i]!.trim());
    exprs.push(block.join(' '));
  }
  return exprs;
}

/** Grafana's variables replaced by values Prometheus accepts. */
const asPromQL = (expr: string) => expr.replaceAll('$__rate_interval', '5m').replaceAll('$tenant', '.*');

/** Every metric name defined in the services' sources (`name: 'beedesk_…'`), plus prom-client's process metrics and `up`. */
function definedMetrics(): Set<string> {
  const names = new Set(['up', 'process_resident_memory_bytes', 'process_cpu_seconds_total']);
  const walk = (folder: string) => {
    for (const entry of readdirSync(folder)) {
      const path = join(folder, entry);
      if (entry === 'node_modules' || entry === 'dist' || entry === 'generated') continue;
      if (statSync(path).isDirectory()) walk(path);
      else if (entry.endsWith('.ts') && !entry.endsWith('.test.ts')) {
        for (const m of readFileSync(path, 'utf8').matchAll(/name: '(beedesk_[a-z_]+)'/g)) names.add(m[1]!);
      }
    }
  };
  walk(join(repoRoot, 'gateway', 'src'));
  walk(join(repoRoot, 'subgraphs'));
  return names;
}
const metricsIn = (expr: string) =>
  [...expr.matchAll(/\b(beedesk_[a-z_]+|process_[a-z_]+|up)\b/g)].map((m) => m[1]!.replace(/_(bucket|count|sum)$/, ''));

describe('Prometheus alerting rules', () => {
  it('pass promtool check rules', () => {
    expect(promtool('check', 'rules', RULES)).toMatch(/SUCCESS: 8 rules found/);
  });

  it('fire (and stay quiet) as their promtool unit tests say', () => {
    expect(promtool('test', 'rules', RULE_TESTS)).toMatch(/SUCCESS/);
  });

  it('each has a severity, a summary and the runbook link, and every alert has a unit test', () => {
    const text = readFileSync(RULES, 'utf8');
    const alerts = [...text.matchAll(/- alert: (\w+)/g)].map((m) => m[1]!);
    expect(alerts).toHaveLength(8);
    expect(text.match(/severity: (warning|critical)/g)).toHaveLength(alerts.length);
    expect(text.match(/summary: /g)).toHaveLength(alerts.length);
    expect(text.match(/runbook: README\.md#operating-beedesk/g)).toHaveLength(alerts.length);
    const tests = readFileSync(RULE_TESTS, 'utf8');
    for (const alert of alerts) expect({ alert, tested: tests.includes(`alertname: ${alert}`) }).toEqual({ alert, tested: true });
    // And README explains each one.
    const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');
    for (const alert of alerts) expect({ alert, documented: readme.includes(`\`${alert}\``) }).toEqual({ alert, documented: true });
  });
});

describe('Grafana dashboard', () => {
  it('is a dashboard with a Prometheus data source variable and a tenant variable', () => {
    expect(dashboard.uid).toBe('beedesk-platform');
    expect(dashboard.title).toBeTruthy();
    expect(dashboard.schemaVersion).toBeGreaterThanOrEqual(36);
    const variables = Object.fromEntries(dashboard.templating.list.map((v) => [v.name, v]));
    expect(variables['datasource']).toMatchObject({ type: 'datasource', query: 'prometheus' });
    expect(variables['tenant']).toMatchObject({ type: 'query' });
  });

  it('lays its panels out on the 24-column grid without overlaps, with unique ids', () => {
    const ids = dashboard.panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    const cells = new Set<string>();
    for (const panel of dashboard.panels) {
      const { x, y, w, h } = panel.gridPos;
      expect(x).toBeGreaterThanOrEqual(0);
      expect(x + w).toBeLessThanOrEqual(24);
      expect(w * h).toBeGreaterThan(0);
      for (let cx = x; cx < x + w; cx++)
        for (let cy = y; cy < y + h; cy++) {
          const cell = `${cx},${cy}`;
          expect({ panel: panel.title, overlaps: cells.has(cell) }).toEqual({ panel: panel.title, overlaps: false });
          cells.add(cell);
        }
    }
  });

  it('queries the data source variable from every panel, with a unit and distinct refIds', () => {
    for (const panel of graphPanels) {
      expect({ panel: panel.title, ds: panel.datasource?.uid }).toEqual({ panel: panel.title, ds: '${datasource}' });
      expect(panel.fieldConfig?.defaults?.unit).toBeTruthy();
      const targets = panel.targets ?? [];
      expect(targets.length).toBeGreaterThan(0);
      expect(new Set(targets.map((t) => t.refId)).size).toBe(targets.length);
    }
  });

  it('shows what operators ask for: requests, errors, latency by phase, lag, breaker, first token, handoffs, tenants', () => {
    const exprs = graphPanels.flatMap((p) => (p.targets ?? []).map((t) => t.expr)).join('\n');
    for (const metric of [
      'beedesk_gateway_graphql_request_duration_seconds',
      'beedesk_gateway_graphql_phase_duration_seconds_bucket',
      'beedesk_gateway_subgraph_fetch_errors_total',
      'beedesk_inference_queue_lag',
      'beedesk_inference_breaker_state',
      'beedesk_inference_first_token_seconds_bucket',
      'beedesk_handoffs_waiting',
      'beedesk_gateway_graphql_requests_total{tenant=~"$tenant"',
    ]) {
      expect(exprs).toContain(metric);
    }
  });
});

describe('every query (dashboard and alerts)', () => {
  const queries = [
    ...graphPanels.flatMap((p) => (p.targets ?? []).map((t) => ({ where: `panel "${p.title}"`, expr: t.expr }))),
    ...alertExpressions().map((expr, i) => ({ where: `alert rule ${i + 1}`, expr })),
  ];

  it('is PromQL that Prometheus parses (promtool checks each as a recording rule)', () => {
    expect(alertExpressions()).toHaveLength(8);
    const tmp = mkdtempSync(join(tmpdir(), 'beedesk-promql-'));
    try {
      const file = join(tmp, 'queries.yml');
      const rules = queries.map((q, i) => `      - record: beedesk:check_${i}\n        expr: ${JSON.stringify(asPromQL(q.expr))}`);
      writeFileSync(file, `groups:\n  - name: dashboard-queries\n    rules:\n${rules.join('\n')}\n`);
      expect(promtool('check', 'rules', file)).toContain(`SUCCESS: ${queries.length} rules found`);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  });

  it('names only metrics the services export', () => {
    const defined = definedMetrics();
    for (const { where, expr } of queries) {
      for (const metric of metricsIn(expr)) {
        expect({ where, metric, exported: defined.has(metric) || PROVIDED_ELSEWHERE.has(metric) }).toEqual({
          where,
          metric,
          exported: true,
        });
      }
    }
  });
});
