/**
 * A minimal OTLP/HTTP (JSON) trace receiver for bench:fairness: the platform's services export the
 * spans of sampled traces here, and the bench reports where the quiet tenants' asks spend their time
 * during the burst. Only B's and C's requests are sampled (their clients send a sampled `traceparent`;
 * the root ratio is 0), so A's burst costs no recorded spans.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { percentile } from '../burst/stats';

export interface CollectedSpan {
  service: string;
  name: string;
  /** Wall-clock start (ms since the epoch) and duration (ms). */
  startMs: number;
  durationMs: number;
}

interface OtlpValue {
  stringValue?: string;
}
interface OtlpExport {
  resourceSpans?: {
    resource?: { attributes?: { key: string; value: OtlpValue }[] };
    scopeSpans?: { spans?: { name: string; startTimeUnixNano: string | number; endTimeUnixNano: string | number }[] }[];
  }[];
}

export interface SpanCollector {
  url: string;
  spans: CollectedSpan[];
  close(): Promise<void>;
}

export async function startSpanCollector(port: number): Promise<SpanCollector> {
  const spans: CollectedSpan[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      try {
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as OtlpExport;
        for (const resource of body.resourceSpans ?? []) {
          const service = resource.resource?.attributes?.find((a) => a.key === 'service.name')?.value.stringValue ?? '?';
          for (const scope of resource.scopeSpans ?? []) {
            for (const span of scope.spans ?? []) {
              const start = Number(BigInt(span.startTimeUnixNano) / 1000n) / 1000;
              const end = Number(BigInt(span.endTimeUnixNano) / 1000n) / 1000;
              spans.push({ service, name: span.name, startMs: start, durationMs: end - start });
            }
          }
        }
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      } catch {
        res.writeHead(400).end();
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${port}/v1/traces`,
    spans,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** A `traceparent` that asks every service to record the request's spans (sampled flag set). */
export function sampledTraceparent(): string {
  return `00-${randomBytes(16).toString('hex')}-${randomBytes(8).toString('hex')}-01`;
}

/** Spans that started in [fromMs, toMs), by service and name: count, p50 and p95 duration, slowest first. */
export function spanBreakdown(spans: CollectedSpan[], fromMs: number, toMs: number) {
  const groups = new Map<string, number[]>();
  for (const s of spans) {
    if (s.startMs < fromMs || s.startMs >= toMs) continue;
    const key = `${s.service}: ${s.name}`;
    const list = groups.get(key) ?? [];
    list.push(s.durationMs);
    groups.set(key, list);
  }
  return [...groups.entries()]
    .map(([span, durations]) => ({ span, count: durations.length, p50: percentile(durations, 50), p95: percentile(durations, 95) }))
    .sort((a, b) => b.p95 - a.p95);
}
