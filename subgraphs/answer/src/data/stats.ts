import { HOUR, MINUTE, TenantStore, type Redis } from '@beedesk/runtime';

/**
 * The tenant's answer statistics for the staff console: asks, outcomes and ask → first token latency,
 * counted where they happen (in the same Lua steps that accept a question, stream its first piece and
 * complete it, so a redelivered request never counts twice) into time buckets. Bounded by construction:
 * one hash per bucket and resolution (a minute for the last hour, an hour for the last day), each with a
 * fixed set of counters and at most LATENCY_BINS latency bins, expiring a little after the window it
 * serves, all under the tenant's hash tag.
 */

export type StatsWindow = 'LAST_HOUR' | 'LAST_24_HOURS';
type Resolution = 'm' | 'h';

const RESOLUTIONS: Record<Resolution, { bucketMs: number; retentionMs: number }> = {
  m: { bucketMs: MINUTE, retentionMs: 2 * HOUR },
  h: { bucketMs: HOUR, retentionMs: 26 * HOUR },
};

export const STATS_WINDOWS: Record<StatsWindow, { resolution: Resolution; buckets: number }> = {
  LAST_HOUR: { resolution: 'm', buckets: 60 },
  LAST_24_HOURS: { resolution: 'h', buckets: 24 },
};

/** What a question came to. `withHuman`: asked while a person owned the conversation (went to staff, not the engine). */
/** `conversations`: questions that were their conversation's first (a session's first turn): conversations started. */
export const STAT_COUNTERS = ['asks', 'conversations', 'answered', 'unsure', 'fallback', 'failed', 'withHuman'] as const;
export type StatCounter = (typeof STAT_COUNTERS)[number];
export type StatCounts = Record<StatCounter, number>;

/**
 * Latency bins: bin i holds (2^((i-1)/8), 2^(i/8)] ms, so a percentile read as its bin's upper edge is at
 * most 9 % above the exact figure. Bin 0 holds everything up to 1 ms, the last one everything longer.
 */
const BINS_PER_DOUBLING = 8;
export const LATENCY_BINS = 200; // 2^(199/8) ms ≈ 9.6 h: beyond any answer's life
export const latencyBin = (ms: number): number =>
  Math.min(LATENCY_BINS - 1, Math.max(0, Math.ceil(Math.log2(Math.max(ms, 1)) * BINS_PER_DOUBLING)));
export const binUpperMs = (bin: number): number => 2 ** (bin / BINS_PER_DOUBLING);
const LATENCY_FIELD = 'ft:';

export interface LatencySummary {
  /** How many answers showed their first piece of text in the window. */
  count: number;
  /** Nearest-rank percentiles, as their bin's upper edge in whole ms; null with no answers. */
  p50Ms: number | null;
  p95Ms: number | null;
}

/** Nearest-rank percentile of a histogram (bin → count). */
export function histogramPercentile(histogram: ReadonlyMap<number, number>, q: number): number | null {
  const bins = [...histogram.entries()].filter(([, n]) => n > 0).sort(([a], [b]) => a - b);
  const total = bins.reduce((sum, [, n]) => sum + n, 0);
  if (total === 0) return null;
  const rank = Math.max(1, Math.ceil(q * total));
  let seen = 0;
  for (const [bin, n] of bins) {
    seen += n;
    if (seen >= rank) return Math.round(binUpperMs(bin));
  }
  return Math.round(binUpperMs(bins[bins.length - 1]![0]));
}

export const summarize = (histogram: ReadonlyMap<number, number>): LatencySummary => ({
  count: [...histogram.values()].reduce((a, b) => a + b, 0),
  p50Ms: histogramPercentile(histogram, 0.5),
  p95Ms: histogramPercentile(histogram, 0.95),
});

export interface StatsBucket extends StatCounts {
  start: Date;
  firstToken: LatencySummary;
}

export interface TenantAnswerStats extends StatCounts {
  window: StatsWindow;
  from: Date;
  to: Date;
  bucketMs: number;
  firstToken: LatencySummary;
  /** Oldest first, one per bucket of the window (empty buckets included, so a chart has no gaps). */
  buckets: StatsBucket[];
}

/**
 * What a Lua step needs to count into the buckets of `at`: two keys (minute and hour bucket) and their
 * retentions. Scripts take them as `KEYS[k], KEYS[k+1]` and `ARGV[a], ARGV[a+1]` and define `count_stat`
 * with `statsLua(k, a)`.
 */
export interface StatsTarget {
  keys: [string, string];
  retentions: [number, number];
}

/** Lua: `count_stat(field)` adds 1 to `field` in both buckets and keeps them no longer than their retention. */
export const statsLua = (firstKey: number, firstArg: number): string => `
local function count_stat(field)
  for i = 0, 1 do
    redis.call('HINCRBY', KEYS[${firstKey} + i], field, 1)
    redis.call('PEXPIRE', KEYS[${firstKey} + i], ARGV[${firstArg} + i])
  end
end
`;

export const latencyField = (ms: number): string => `${LATENCY_FIELD}${latencyBin(ms)}`;

export class AnswerStatsRepository extends TenantStore {
  constructor(redis: Redis, prefix: string) {
    super(redis, prefix);
  }

  /** The buckets an event at `at` counts into. */
  target(tenantId: string, at: Date): StatsTarget {
    const keys = this.keys(tenantId);
    const bucket = (r: Resolution) => keys.answerStats(r, Math.floor(at.getTime() / RESOLUTIONS[r].bucketMs));
    return { keys: [bucket('m'), bucket('h')], retentions: [RESOLUTIONS.m.retentionMs, RESOLUTIONS.h.retentionMs] };
  }

  /** The window ending with the bucket that holds `now` (a partly elapsed bucket included), one pipeline of HGETALLs. */
  async read(tenantId: string, window: StatsWindow, now = new Date()): Promise<TenantAnswerStats> {
    const { resolution, buckets: count } = STATS_WINDOWS[window];
    const { bucketMs } = RESOLUTIONS[resolution];
    const keys = this.keys(tenantId);
    const last = Math.floor(now.getTime() / bucketMs);
    const numbers = Array.from({ length: count }, (_, i) => last - count + 1 + i);
    const pipeline = this.redis.pipeline();
    for (const n of numbers) pipeline.hgetall(keys.answerStats(resolution, n));
    const replies = (await pipeline.exec()) ?? [];
    const total = new Map<number, number>();
    const totals = zeroCounts();
    const buckets = numbers.map((n, i): StatsBucket => {
      const [error, raw] = replies[i] ?? [null, {}];
      if (error) throw error;
      const { counts, histogram } = parseBucket((raw ?? {}) as Record<string, string>);
      for (const name of STAT_COUNTERS) totals[name] += counts[name];
      for (const [bin, c] of histogram) total.set(bin, (total.get(bin) ?? 0) + c);
      return { start: new Date(n * bucketMs), ...counts, firstToken: summarize(histogram) };
    });
    return {
      window,
      from: new Date(numbers[0]! * bucketMs),
      to: now,
      bucketMs,
      ...totals,
      firstToken: summarize(total),
      buckets,
    };
  }
}

const zeroCounts = (): StatCounts => ({ asks: 0, conversations: 0, answered: 0, unsure: 0, fallback: 0, failed: 0, withHuman: 0 });

function parseBucket(raw: Record<string, string>): { counts: StatCounts; histogram: Map<number, number> } {
  const counts = zeroCounts();
  const histogram = new Map<number, number>();
  for (const [field, value] of Object.entries(raw)) {
    const n = Number(value);
    if (!Number.isFinite(n)) continue;
    if (field.startsWith(LATENCY_FIELD)) {
      const bin = Number(field.slice(LATENCY_FIELD.length));
      if (Number.isInteger(bin) && bin >= 0 && bin < LATENCY_BINS) histogram.set(bin, n);
    } else if ((STAT_COUNTERS as readonly string[]).includes(field)) counts[field as StatCounter] = n;
  }
  return { counts, histogram };
}
