/**
 * Where the quiet tenants' asks spend their time in bench:fairness: the services export the spans of
 * sampled traces to an OTLP receiver (../../otlp-receiver.ts), and only B's and C's requests are sampled
 * (their clients send a sampled `traceparent`; the root ratio is 0), so A's burst records no spans.
 */
import { randomBytes } from 'node:crypto';
import type { ReceivedSpan } from '../../otlp-receiver';
import { percentile } from '../burst/stats';

/** A `traceparent` that asks every service to record the request's spans (sampled flag set). */
export function sampledTraceparent(): string {
  return `00-${randomBytes(16).toString('hex')}-${randomBytes(8).toString('hex')}-01`;
}

const msOf = (ns: bigint) => Number(ns / 1000n) / 1000;

/** Spans that started in [fromMs, toMs) (epoch ms), by service and name: count, p50 and p95 duration, slowest first. */
export function spanBreakdown(spans: readonly ReceivedSpan[], fromMs: number, toMs: number) {
  const groups = new Map<string, number[]>();
  for (const s of spans) {
    const startMs = msOf(s.startNs);
    if (startMs < fromMs || startMs >= toMs) continue;
    const key = `${s.service}: ${s.name}`;
    const list = groups.get(key) ?? [];
    list.push(msOf(s.endNs) - startMs);
    groups.set(key, list);
  }
  return [...groups.entries()]
    .map(([span, durations]) => ({ span, count: durations.length, p50: percentile(durations, 50), p95: percentile(durations, 95) }))
    .sort((a, b) => b.p95 - a.p95);
}
