import { useEffect, useRef, useState } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { ConsoleActivityDocument, ConsoleOverviewStatusDocument, type ConsoleOverviewStatusQuery } from '../../generated/operations';
import { clientFor, describeError, op } from '../api';
import type { Identity } from '../auth';
import { t, useLang } from '../i18n';
import { ErrorState } from '../ui';

const ACTIVITY = op(ConsoleActivityDocument);
const STATUS = op(ConsoleOverviewStatusDocument);

/** How long the first of the waiting line has waited, e.g. "42 s" or "3 min" ("—" when nobody waits). */
function longestWait(line: ConsoleOverviewStatusQuery['inbox'] | null): string {
  const since = line?.edges[0]?.node.waitingSince;
  if (!since) return '—';
  const seconds = Math.max(0, Math.round((Date.now() - Date.parse(since)) / 1000));
  return seconds < 120 ? `${seconds} s` : `${Math.round(seconds / 60)} min`;
}
const MINUTES = 30;

interface Stats {
  /** Per minute (epoch minute → count). */
  sessions: Map<number, number>;
  questions: Map<number, number>;
  outcomes: { answered: number; handedOver: number; fallback: number; failed: number };
  /** Ask → final answer, milliseconds, the last 500. */
  latencies: number[];
}

const emptyStats = (): Stats => ({
  sessions: new Map(),
  questions: new Map(),
  outcomes: { answered: 0, handedOver: 0, fallback: 0, failed: 0 },
  latencies: [],
});
const minuteOf = (iso: string) => Math.floor(Date.parse(iso) / 60_000);
const bump = (map: Map<number, number>, minute: number) => map.set(minute, (map.get(minute) ?? 0) + 1);

export function quantile(sorted: number[], q: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

export function OverviewPage({ identity }: { identity: Identity }) {
  useLang();
  const [stats, setStats] = useState<Stats>(emptyStats);
  const [live, setLive] = useState<'connecting' | 'live' | 'reconnecting'>('connecting');
  const [error, setError] = useState<{ message: string; code: string } | null>(null);
  const [status, setStatus] = useState<ConsoleOverviewStatusQuery['inferenceStatus'] | null>(null);
  const [line, setLine] = useState<ConsoleOverviewStatusQuery['inbox'] | null>(null);

  // tenantActivity, resubscribed with back-off whenever the connection drops.
  useEffect(() => {
    const client = clientFor(identity);
    let stopped = false;
    let iterator: AsyncIterableIterator<unknown> | null = null;
    let delay = 500;
    (async () => {
      while (!stopped) {
        try {
          const events = client.subscribe(ACTIVITY);
          iterator = events;
          setLive('live');
          for await (const { tenantActivity: event } of events) {
            delay = 500;
            setStats((previous) => {
              const next: Stats = { ...previous, outcomes: { ...previous.outcomes } };
              if (event.kind === 'SESSION_STARTED') bump(next.sessions, minuteOf(event.at));
              if (event.kind === 'QUESTION_ASKED') bump(next.questions, minuteOf(event.at));
              if (event.kind === 'ANSWER_DONE' && event.answer) {
                const a = event.answer;
                if (a.status === 'FALLBACK') next.outcomes.fallback++;
                else if (a.status === 'FAILED') next.outcomes.failed++;
                else if (a.needsHuman) next.outcomes.handedOver++;
                else next.outcomes.answered++;
                if (a.completedAt)
                  next.latencies = [...previous.latencies.slice(-499), Date.parse(a.completedAt) - Date.parse(a.createdAt)];
              }
              return next;
            });
          }
        } catch (e) {
          const described = describeError(e);
          if (described.code === 'FORBIDDEN' || described.code === 'UNAUTHENTICATED') {
            setError(described);
            return;
          }
        }
        if (stopped) return;
        setLive('reconnecting');
        await new Promise((resolve) => setTimeout(resolve, delay));
        delay = Math.min(delay * 2, 10_000);
      }
    })();
    return () => {
      stopped = true;
      void iterator?.return?.();
    };
  }, [identity.token]);

  // The engine's status every 5 s.
  useEffect(() => {
    const client = clientFor(identity);
    const poll = () =>
      client.request(STATUS).then(
        (d) => {
          setStatus(d.inferenceStatus);
          setLine(d.inbox);
        },
        (e: unknown) => describeError(e).code === 'FORBIDDEN' && setError(describeError(e)),
      );
    void poll();
    const timer = setInterval(poll, 5000);
    return () => clearInterval(timer);
  }, [identity.token]);

  if (error) return <ErrorState message={error.message} code={error.code} />;
  const sorted = [...stats.latencies].sort((a, b) => a - b);
  const p50 = quantile(sorted, 0.5);
  const p95 = quantile(sorted, 0.95);
  const ms = (v: number | null) => (v === null ? '—' : `${Math.round(v)} ms`);
  const total = Object.values(stats.outcomes).reduce((a, b) => a + b, 0);

  return (
    <div class="page">
      <div class="page-head">
        <h1>{t('overview.title')}</h1>
        <span class={`pill ${live === 'live' ? 'ok' : 'warn'}`} role="status">
          {live === 'live' ? t('overview.live') : t('overview.reconnecting')}
        </span>
      </div>
      <div class="tiles">
        <Tile label={`${t('overview.latency')} ${t('overview.p50')}`} value={ms(p50)} />
        <Tile label={`${t('overview.latency')} ${t('overview.p95')}`} value={ms(p95)} />
        <Tile label={t('overview.queueLag')} value={status ? String(status.queueLag) : '—'} />
        <Tile
          label={t('overview.breaker')}
          value={status?.breaker ?? '—'}
          tone={status?.breaker === 'CLOSED' ? 'ok' : status ? 'warn' : undefined}
        />
        <Tile label={t('overview.waiting')} value={line ? String(line.totalCount) : '—'} />
        <Tile label={t('overview.longestWait')} value={longestWait(line)} />
      </div>
      <div class="charts">
        <Chart title={t('overview.conversations')} series={stats.sessions} />
        <Chart title={t('overview.questions')} series={stats.questions} />
        <section class="card" aria-labelledby="outcomes-heading">
          <h2 id="outcomes-heading">{t('overview.outcomes')}</h2>
          {total === 0 ? (
            <p class="muted">{t('overview.noData')}</p>
          ) : (
            <ul class="bars">
              {(
                [
                  ['answered', stats.outcomes.answered, 'ok'],
                  ['handedOver', stats.outcomes.handedOver, 'warn'],
                  ['fallback', stats.outcomes.fallback, 'warn'],
                  ['failed', stats.outcomes.failed, 'bad'],
                ] as const
              ).map(([key, n, tone]) => (
                <li key={key} title={`${t(`overview.${key}`)}: ${n}`}>
                  <span class="bar-label">{t(`overview.${key}`)}</span>
                  <span class="meter">
                    <span class={`fill ${tone}`} style={{ width: `${(n / total) * 100}%` }} />
                  </span>
                  <span class="num">{n}</span>
                </li>
              ))}
            </ul>
          )}
        </section>
      </div>
    </div>
  );
}

function Tile({ label, value, tone }: { label: string; value: string; tone?: 'ok' | 'warn' }) {
  return (
    <div class={`tile ${tone ?? ''}`}>
      <span class="tile-label">{label}</span>
      <span class="tile-value">{value}</span>
    </div>
  );
}

/** Counts per minute over the last 30 minutes, as a uPlot line (the value of a minute on hover). */
function Chart({ title, series }: { title: string; series: Map<number, number> }) {
  const host = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const now = Math.floor(Date.now() / 60_000);
  const xs = Array.from({ length: MINUTES }, (_, i) => (now - MINUTES + 1 + i) * 60);
  const ys = xs.map((x) => series.get(x / 60) ?? 0);
  useEffect(() => {
    if (!host.current) return;
    const width = host.current.clientWidth || 400;
    plot.current = new uPlot(
      {
        width,
        height: 160,
        legend: { live: true },
        scales: { y: { range: (_u, _min, max) => [0, Math.max(1, max)] } },
        axes: [{}, { size: 40 }],
        series: [{}, { label: title, stroke: '#2563eb', fill: 'rgba(37,99,235,0.12)', width: 2 }],
      },
      [xs, ys],
      host.current,
    );
    const resize = () => plot.current?.setSize({ width: host.current?.clientWidth ?? width, height: 160 });
    addEventListener('resize', resize);
    return () => {
      removeEventListener('resize', resize);
      plot.current?.destroy();
      plot.current = null;
    };
  }, [title]);
  useEffect(() => plot.current?.setData([xs, ys]), [series, ys.join(',')]);
  return (
    <section class="card chart" aria-label={`${title}: ${ys[ys.length - 1]} / min`}>
      <h2>{title}</h2>
      <div ref={host} />
    </section>
  );
}
