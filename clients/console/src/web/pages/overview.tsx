import { useEffect, useRef, useState } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import {
  ConsoleActivityDocument,
  ConsoleAnswerStatsDocument,
  ConsoleOverviewStatusDocument,
  type ConsoleAnswerStatsQuery,
  type ConsoleOverviewStatusQuery,
  type StatsWindow,
} from '../../generated/operations';
import { clientFor, describeError, op } from '../api';
import type { Identity } from '../auth';
import { t, useLang, type MessageKey } from '../i18n';
import { ErrorState } from '../ui';

const ACTIVITY = op(ConsoleActivityDocument);
const STATUS = op(ConsoleOverviewStatusDocument);
const STATS = op(ConsoleAnswerStatsDocument);

type Stats = ConsoleAnswerStatsQuery['answerStats'];

/** The figures are read again this often even when nothing happens (buckets roll over), and soon after any activity. */
const STATS_REFRESH_MS = 15_000;
const ACTIVITY_REFRESH_DELAY_MS = 1_000;
const STATUS_REFRESH_MS = 5_000;

const WINDOWS: { id: StatsWindow; label: MessageKey; empty: MessageKey }[] = [
  { id: 'LAST_HOUR', label: 'overview.lastHour', empty: 'overview.emptyHour' },
  { id: 'LAST_24_HOURS', label: 'overview.last24h', empty: 'overview.emptyDay' },
];

/** How long the first of the waiting line has waited, e.g. "42 s" or "3 min" ("—" when nobody waits). */
function longestWait(line: ConsoleOverviewStatusQuery['inbox'] | null): string {
  const since = line?.edges[0]?.node.waitingSince;
  if (!since) return '—';
  const seconds = Math.max(0, Math.round((Date.now() - Date.parse(since)) / 1000));
  return seconds < 120 ? `${seconds} s` : `${Math.round(seconds / 60)} min`;
}

export const formatMs = (v: number | null | undefined): string =>
  v === null || v === undefined ? '—' : v < 1000 ? `${Math.round(v)} ms` : `${(v / 1000).toFixed(v < 10_000 ? 2 : 1)} s`;

/**
 * The tenant's figures from the server (answerStats over the chosen window), read on open, every
 * STATS_REFRESH_MS and shortly after any activity; a failed read keeps the last figures and says so.
 */
function useAnswerStats(identity: Identity, window: StatsWindow, nudge: number) {
  const [stats, setStats] = useState<{ window: StatsWindow; data: Stats } | null>(null);
  const [error, setError] = useState<{ message: string; code: string } | null>(null);
  const [attempt, setAttempt] = useState(0);
  useEffect(() => {
    const client = clientFor(identity);
    let stopped = false;
    const read = () =>
      client.request(STATS, { window }).then(
        (d) => {
          if (stopped) return;
          setStats({ window, data: d.answerStats });
          setError(null);
        },
        (e: unknown) => !stopped && setError(describeError(e)),
      );
    void read();
    const timer = setInterval(read, STATS_REFRESH_MS);
    return () => {
      stopped = true;
      clearInterval(timer);
    };
  }, [identity.token, window, attempt]);
  // Activity: read again soon (one read for a burst of events).
  useEffect(() => {
    if (nudge === 0) return;
    const timer = setTimeout(() => setAttempt((n) => n + 1), ACTIVITY_REFRESH_DELAY_MS);
    return () => clearTimeout(timer);
  }, [nudge]);
  const current = stats?.window === window ? stats.data : null;
  return { stats: current, error, retry: () => setAttempt((n) => n + 1) };
}

export function OverviewPage({ identity }: { identity: Identity }) {
  useLang();
  const [window, setWindow] = useState<StatsWindow>('LAST_HOUR');
  const [live, setLive] = useState<'connecting' | 'live' | 'reconnecting'>('connecting');
  const [nudge, setNudge] = useState(0);
  const [fatal, setFatal] = useState<{ message: string; code: string } | null>(null);
  const [status, setStatus] = useState<ConsoleOverviewStatusQuery['inferenceStatus'] | null>(null);
  const [line, setLine] = useState<ConsoleOverviewStatusQuery['inbox'] | null>(null);
  const { stats, error: statsError, retry } = useAnswerStats(identity, window, nudge);

  // tenantActivity only nudges a new read of the figures; resubscribed with back-off when the connection drops.
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
          for await (const _event of events) {
            delay = 500;
            setNudge((n) => n + 1);
          }
        } catch (e) {
          const described = describeError(e);
          if (described.code === 'FORBIDDEN' || described.code === 'UNAUTHENTICATED') {
            setFatal(described);
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
        (e: unknown) => describeError(e).code === 'FORBIDDEN' && setFatal(describeError(e)),
      );
    void poll();
    const timer = setInterval(poll, STATUS_REFRESH_MS);
    return () => clearInterval(timer);
  }, [identity.token]);

  if (fatal) return <ErrorState message={fatal.message} code={fatal.code} />;
  if (statsError?.code === 'FORBIDDEN' || statsError?.code === 'UNAUTHENTICATED')
    return <ErrorState message={statsError.message} code={statsError.code} />;
  const spec = WINDOWS.find((w) => w.id === window)!;
  const loading = stats === null && statsError === null;
  const figure = (value: string) => (loading ? '…' : stats ? value : '—');
  const stale = statsError !== null && stats !== null;

  return (
    <div class="page">
      <div class="page-head">
        <h1>{t('overview.title')}</h1>
        <span class={`pill ${live === 'live' && !stale ? 'ok' : 'warn'}`} role="status">
          {stale ? t('overview.stale') : live === 'live' ? t('overview.live') : t('overview.reconnecting')}
        </span>
        <div class="segmented" role="group" aria-label={t('overview.window')}>
          {WINDOWS.map((w) => (
            <button key={w.id} type="button" aria-pressed={w.id === window} onClick={() => setWindow(w.id)}>
              {t(w.label)}
            </button>
          ))}
        </div>
      </div>
      {statsError && stats === null && (
        <div class="state state-error" role="alert">
          <p>{t('overview.statsError', { message: statsError.message })}</p>
          <p class="code">{statsError.code}</p>
          <button type="button" onClick={retry}>
            {t('state.retry')}
          </button>
        </div>
      )}
      <div class="tiles" aria-busy={loading}>
        <Tile label={`${t('overview.latency')} ${t('overview.p50')}`} value={figure(formatMs(stats?.firstToken.p50Ms))} />
        <Tile label={`${t('overview.latency')} ${t('overview.p95')}`} value={figure(formatMs(stats?.firstToken.p95Ms))} />
        <Tile label={t('overview.asks')} value={figure(String(stats?.asks ?? 0))} />
        <Tile label={t('overview.conversations')} value={figure(String(stats?.conversations ?? 0))} />
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
        <ChartCard
          title={t('overview.questions')}
          loading={loading}
          empty={stats !== null && stats.asks === 0 ? t(spec.empty) : null}
          stats={stats}
          series={[
            { label: t('overview.asks'), values: (s) => s.buckets.map((b) => b.asks), color: '#2563eb' },
            { label: t('overview.conversations'), values: (s) => s.buckets.map((b) => b.conversations), color: '#7c3aed' },
          ]}
        />
        <ChartCard
          title={t('overview.latencyChart')}
          loading={loading}
          empty={stats !== null && stats.firstToken.count === 0 ? t(spec.empty) : null}
          stats={stats}
          unit="ms"
          series={[
            { label: t('overview.p50'), values: (s) => s.buckets.map((b) => b.firstToken.p50Ms ?? null), color: '#2563eb' },
            { label: t('overview.p95'), values: (s) => s.buckets.map((b) => b.firstToken.p95Ms ?? null), color: '#b45309' },
          ]}
        />
        <Outcomes stats={stats} loading={loading} empty={t(spec.empty)} />
      </div>
    </div>
  );
}

function Outcomes({ stats, loading, empty }: { stats: Stats | null; loading: boolean; empty: string }) {
  const rows = stats
    ? ([
        ['answered', stats.answered, 'ok'],
        ['unsure', stats.unsure, 'warn'],
        ['fallback', stats.fallback, 'warn'],
        ['failed', stats.failed, 'bad'],
        ['withHuman', stats.withHuman, 'ok'],
      ] as const)
    : [];
  const total = rows.reduce((sum, [, n]) => sum + n, 0);
  return (
    <section class="card" aria-labelledby="outcomes-heading" aria-busy={loading}>
      <h2 id="outcomes-heading">{t('overview.outcomes')}</h2>
      {loading ? (
        <p class="muted">{t('state.loading')}</p>
      ) : total === 0 ? (
        <p class="muted">{stats ? empty : '—'}</p>
      ) : (
        <ul class="bars">
          {rows.map(([key, n, tone]) => (
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

interface SeriesSpec {
  label: string;
  values: (stats: Stats) => (number | null)[];
  color: string;
}

function ChartCard(props: {
  title: string;
  loading: boolean;
  empty: string | null;
  stats: Stats | null;
  series: SeriesSpec[];
  unit?: string;
}) {
  const { title, loading, empty, stats } = props;
  return (
    <section class="card chart" aria-label={title} aria-busy={loading}>
      <h2>{title}</h2>
      {loading ? (
        <p class="muted chart-state">{'…'}</p>
      ) : empty !== null || stats === null ? (
        <p class="muted chart-state">{empty ?? '—'}</p>
      ) : (
        <Chart title={title} stats={stats} series={props.series} unit={props.unit} />
      )}
    </section>
  );
}

/** The window's buckets as a uPlot line chart (each bucket's values on hover). */
function Chart({ title, stats, series, unit }: { title: string; stats: Stats; series: SeriesSpec[]; unit?: string }) {
  const host = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const xs = stats.buckets.map((b) => Date.parse(b.start) / 1000);
  const data: uPlot.AlignedData = [xs, ...series.map((s) => s.values(stats))];
  const shape = `${series.map((s) => s.label).join('|')}|${stats.bucketSeconds}`;
  useEffect(() => {
    if (!host.current) return;
    const width = host.current.clientWidth || 400;
    plot.current = new uPlot(
      {
        width,
        height: 160,
        legend: { live: true },
        scales: { y: { range: (_u, _min, max) => [0, Math.max(1, (max ?? 1) * (unit ? 1.15 : 1))] } },
        axes: [{}, { size: 72, values: (_u, ticks) => ticks.map((v) => (unit ? formatMs(v) : String(v))) }],
        series: [
          {},
          ...series.map((s) => ({
            label: s.label,
            stroke: s.color,
            width: 2,
            spanGaps: false,
            // A bucket between empty ones is a lone point: drawn as a dot, not left invisible.
            points: { show: true, size: 5 },
            value: (_u: uPlot, v: number | null) => (v === null ? '—' : unit ? formatMs(v) : String(v)),
          })),
        ],
      },
      data,
      host.current,
    );
    const resize = () => plot.current?.setSize({ width: host.current?.clientWidth ?? width, height: 160 });
    addEventListener('resize', resize);
    return () => {
      removeEventListener('resize', resize);
      plot.current?.destroy();
      plot.current = null;
    };
  }, [title, shape]);
  useEffect(() => plot.current?.setData(data), [JSON.stringify(data)]);
  return <div ref={host} />;
}
