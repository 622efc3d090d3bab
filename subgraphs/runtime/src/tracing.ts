import {
  context,
  createContextKey,
  isSpanContextValid,
  propagation,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Attributes,
  type Context,
  type Link,
  type Span,
  type SpanContext,
  type SpanOptions,
  type Tracer,
} from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  BatchSpanProcessor,
  ParentBasedSampler,
  SamplingDecision,
  TraceIdRatioBasedSampler,
  TracerProvider,
  type Sampler,
  type SamplingResult,
  type SpanExporter,
} from '@opentelemetry/sdk-trace';

export { SpanKind, SpanStatusCode, type Attributes, type Context, type Span, type SpanContext };

/**
 * OpenTelemetry tracing for every service: one tracer provider per process, exporting OTLP/HTTP
 * (JSON) in batches. Off unless an OTLP endpoint is configured; then every request, Kafka message
 * and live event carries W3C trace context (`traceparent`), and log lines carry `trace_id`/`span_id`.
 *
 * Sampling is parent-based with a ratio at the root (`OTEL_TRACES_SAMPLER_ARG`, default 1): a trace
 * is kept or dropped as a whole wherever it started. A tail decision ("keep every trace with an
 * error") needs all of a trace's spans in one place, which no single process has. What we do
 * instead: when an operation fails inside a trace that was not sampled, `failSpan` exports one
 * extra span for the failure, always sampled, linked to the unsampled span's context (its trace id
 * finds the log lines of the whole request). So every error is in the trace store, sampled or not.
 */

/** Attribute names beedesk adds beside the semantic conventions'. */
export const ATTR = {
  tenant: 'beedesk.tenant.id',
  documentId: 'graphql.document.id',
  answerId: 'beedesk.answer.id',
  engine: 'beedesk.engine',
  seq: 'beedesk.event.seq',
  shared: 'beedesk.fetch.deduplicated',
} as const;

export interface TracingSettings {
  /** Full URL of the OTLP/HTTP traces endpoint (`…/v1/traces`). */
  tracesUrl: string;
  /** Probability a trace started here is sampled (children follow their parent's decision). */
  ratio: number;
  serviceName: string;
}

/**
 * Reads the standard OpenTelemetry variables: `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` (full URL) or
 * `OTEL_EXPORTER_OTLP_ENDPOINT` (base; `/v1/traces` is appended), `OTEL_TRACES_SAMPLER_ARG` (ratio,
 * 0–1, default 1), `OTEL_SERVICE_NAME` (default: the service's own name), `OTEL_SDK_DISABLED=true`
 * (off whatever else is set). Null: tracing is off.
 */
export function tracingSettingsOf(env: NodeJS.ProcessEnv, serviceName: string): TracingSettings | null {
  if ((env.OTEL_SDK_DISABLED ?? '').toLowerCase() === 'true') return null;
  const full = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim();
  const base = env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim();
  const tracesUrl = full || (base ? `${base.replace(/\/+$/, '')}/v1/traces` : '');
  if (!tracesUrl) return null;
  const rawRatio = env.OTEL_TRACES_SAMPLER_ARG?.trim();
  const parsed = rawRatio ? Number(rawRatio) : 1;
  if (!Number.isFinite(parsed) || parsed < 0 || parsed > 1) {
    throw new Error(`OTEL_TRACES_SAMPLER_ARG must be a number from 0 to 1 (got ${JSON.stringify(rawRatio)})`);
  }
  return { tracesUrl, ratio: parsed, serviceName: env.OTEL_SERVICE_NAME?.trim() || serviceName };
}

/** Context flag: the span started in it is sampled whatever the ratio says (error spans of unsampled traces). */
const FORCE_SAMPLE = createContextKey('beedesk.forceSample');

/** Parent-based ratio sampling, except where FORCE_SAMPLE is set. */
class BeedeskSampler implements Sampler {
  private readonly inner: Sampler;
  constructor(ratio: number) {
    this.inner = new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(ratio) });
  }
  shouldSample(...args: Parameters<Sampler['shouldSample']>): SamplingResult {
    if (args[0].getValue(FORCE_SAMPLE) === true) return { decision: SamplingDecision.RECORD_AND_SAMPLED };
    return this.inner.shouldSample(...args);
  }
  toString(): string {
    return `BeedeskSampler{${this.inner.toString()}}`;
  }
}

let provider: TracerProvider | null = null;
let contextReady = false;
const NOOP_TRACER = trace.getTracer('beedesk-noop');

/** W3C trace context propagation and async context tracking, installed once per process. */
function installContext(): void {
  if (contextReady) return;
  contextReady = true;
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
}

export interface Tracing {
  readonly enabled: boolean;
  readonly settings: TracingSettings | null;
  /** Exports what is buffered now. */
  flush(): Promise<void>;
  /** Exports what is buffered and stops (call on shutdown). */
  shutdown(): Promise<void>;
}

/**
 * Starts tracing for this process when `settings` (tracingSettingsOf) say so; idempotent (the
 * embedded default runs several services in one process: the first call wins). `exporter` replaces
 * the OTLP exporter (unit tests).
 */
export function startTracing(settings: TracingSettings | null, exporter?: SpanExporter): Tracing {
  const nothing = async () => undefined;
  if (!settings) return { enabled: provider !== null, settings: null, flush: nothing, shutdown: nothing };
  if (provider) return { enabled: true, settings, flush: nothing, shutdown: nothing };
  installContext();
  const spanExporter = exporter ?? new OTLPTraceExporter({ url: settings.tracesUrl, timeoutMillis: 5_000 });
  const started = new TracerProvider({
    resource: resourceFromAttributes({ 'service.name': settings.serviceName, 'service.namespace': 'beedesk' }),
    sampler: new BeedeskSampler(settings.ratio),
    spanProcessors: [
      new BatchSpanProcessor({ exporter: spanExporter, scheduledDelayMillis: 1_000, maxQueueSize: 4_096, maxExportBatchSize: 512 }),
    ],
    spanLimits: { attributeValueLengthLimit: 256 },
  });
  provider = started;
  return {
    enabled: true,
    settings,
    flush: () => started.forceFlush(),
    shutdown: async () => {
      if (provider === started) provider = null;
      await started.shutdown().catch(() => undefined);
    },
  };
}

/** Whether spans are recorded in this process (a configured endpoint). */
export const tracingEnabled = (): boolean => provider !== null;

/** The tracer of an instrumentation scope (`@beedesk/gateway`, …); a no-op one while tracing is off. */
export function tracer(scope: string): Tracer {
  return provider ? provider.getTracer(scope) : NOOP_TRACER;
}

/** The span active now, if any (recording or not). */
export const activeSpan = (): Span | undefined => trace.getActiveSpan();

/** The active context (ROOT when tracing never started). */
export const activeContext = (): Context => context.active();

/** Runs `fn` with `span` active, so spans, log lines and trace headers made inside belong to it. */
export function withActiveSpan<T>(span: Span, fn: () => T, parent: Context = context.active()): T {
  return context.with(trace.setSpan(parent, span), fn);
}

/** The context `span` is active in (for injecting it, or starting children of it). */
export function contextWith(span: Span, parent: Context = context.active()): Context {
  return trace.setSpan(parent, span);
}

/** Runs `fn` in `ctx`. */
export function withContext<T>(ctx: Context, fn: () => T): T {
  return context.with(ctx, fn);
}

/** Writes `traceparent` (and `tracestate`) of `ctx` into `carrier`; nothing when tracing is off. */
export function injectTraceContext(carrier: Record<string, string>, ctx: Context = context.active()): Record<string, string> {
  if (provider) propagation.inject(ctx, carrier);
  return carrier;
}

/** The context named by a carrier's `traceparent` (HTTP headers, Kafka headers, event fields). */
export function extractTraceContext(carrier: Record<string, unknown>, base: Context = ROOT_CONTEXT): Context {
  if (!provider) return base;
  return propagation.extract(base, carrier, {
    keys: (c) => Object.keys(c),
    get: (c, key) => {
      const value = c[key];
      if (typeof value === 'string') return value;
      if (Buffer.isBuffer(value)) return value.toString('latin1');
      if (Array.isArray(value) && typeof value[0] === 'string') return value[0];
      return undefined;
    },
  });
}

/** The span context a carrier names, if it names a valid one (for span links). */
export function spanContextOf(ctx: Context): SpanContext | undefined {
  const spanContext = trace.getSpanContext(ctx);
  return spanContext && isSpanContextValid(spanContext) ? spanContext : undefined;
}

/** `traceparent` of the active span, for messages that carry it in their body (live events). */
export function currentTraceparent(ctx: Context = context.active()): string | undefined {
  if (!provider) return undefined;
  const carrier: Record<string, string> = {};
  propagation.inject(ctx, carrier);
  return carrier['traceparent'];
}

/** Ids of the active span for log lines (pino mixin): none outside a span. */
export function traceFields(): { trace_id: string; span_id: string } | Record<string, never> {
  const spanContext = trace.getSpanContext(context.active());
  if (!spanContext || !isSpanContextValid(spanContext)) return {};
  return { trace_id: spanContext.traceId, span_id: spanContext.spanId };
}

/**
 * Marks `span` failed. When the span is not recorded (its trace was not sampled), exports one span
 * for the failure anyway: `error <name>`, always sampled, linked to the unsampled span's context.
 */
export function failSpan(span: Span, error: unknown, name: string, attributes: Attributes = {}): void {
  const type = errorType(error);
  const message = error instanceof Error ? error.message : String(error);
  if (span.isRecording()) {
    span.setAttribute('error.type', type);
    span.recordException(error instanceof Error ? error : { name: type, message });
    span.setStatus({ code: SpanStatusCode.ERROR, message });
    return;
  }
  if (!provider) return;
  const unsampled = span.spanContext();
  const links: Link[] = isSpanContextValid(unsampled) ? [{ context: unsampled }] : [];
  const forced = context.active().setValue(FORCE_SAMPLE, true);
  const errorSpan = provider
    .getTracer('@beedesk/runtime')
    .startSpan(`error ${name}`, { root: true, links, attributes: { ...attributes, 'error.type': type } }, forced);
  errorSpan.recordException(error instanceof Error ? error : { name: type, message });
  errorSpan.setStatus({ code: SpanStatusCode.ERROR, message });
  errorSpan.end();
}

function errorType(error: unknown): string {
  const code = (error as { extensions?: { code?: unknown }; code?: unknown } | null)?.extensions?.code;
  if (typeof code === 'string') return code;
  if (error instanceof Error) return error.name === 'Error' ? error.constructor.name : error.name;
  return 'unknown';
}

/**
 * Runs `fn` in a new active span that ends when `fn` settles; a throw marks it failed (failSpan)
 * and is rethrown. `fn` may mark a failure itself with `failSpan` without throwing.
 */
export async function inSpan<T>(
  scope: string,
  name: string,
  options: SpanOptions,
  fn: (span: Span) => Promise<T>,
  parent: Context = context.active(),
): Promise<T> {
  const span = tracer(scope).startSpan(name, options, parent);
  try {
    return await context.with(trace.setSpan(parent, span), () => fn(span));
  } catch (error) {
    failSpan(span, error, name, tenantAttribute(options.attributes));
    throw error;
  } finally {
    span.end();
  }
}

const tenantAttribute = (attributes: Attributes | undefined): Attributes =>
  attributes?.[ATTR.tenant] === undefined ? {} : { [ATTR.tenant]: attributes[ATTR.tenant] };
