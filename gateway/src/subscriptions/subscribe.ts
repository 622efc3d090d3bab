import {
  activeContext,
  ATTR,
  AsyncQueue,
  extractTraceContext,
  failSpan,
  SpanKind,
  tracer,
  tracingEnabled,
  withActiveSpan,
  type Attributes,
  type Context,
  type Logger,
  type Span,
  type SpanContext,
} from '@beedesk/runtime';
import { GraphQLError, type DocumentNode, type ExecutionResult, type OperationDefinitionNode } from 'graphql';
import { slowConsumer } from './errors';
import type { EventExecutor } from './event-executor';
import { GATEWAY_TRACER } from '../pipeline/useTracing';
import { NO_TELEMETRY, type GatewayTelemetry } from '../telemetry';
import type { SubscriptionPlan } from './planner';
import type { UpstreamConnection } from './upstream';

export interface FederatedSubscriptionRequest {
  plan: SubscriptionPlan;
  document: DocumentNode;
  operation: OperationDefinitionNode;
  /** Already coerced against the operation's variable definitions. */
  variables: Record<string, unknown>;
  requestId: string;
}

export interface FederatedSubscriptionOptions {
  upstream: UpstreamConnection;
  executeEvent: EventExecutor;
  /** The caller's context, signed now (events may come long after the subscription started). */
  signedContext: () => string;
  /** Events received but not yet taken by the client; past it the client is dropped. */
  maxBuffered: number;
  /** Tells the protocol layer the client was too slow (graphql-ws closes the socket). */
  onOverflow: () => void;
  logger: Logger;
  telemetry?: GatewayTelemetry;
  /** The subscription's span (events link to it) and the attributes every event span repeats. */
  trace?: { subscription: SpanContext | undefined; attributes: Attributes };
}

/**
 * Takes the publisher's `traceparent` out of an upstream event (the subgraph passes it in
 * `extensions`, see runtime subgraph-ws.ts): the client never sees it.
 */
function takeTraceparent(event: ExecutionResult): string | undefined {
  const extensions = event.extensions as Record<string, unknown> | undefined;
  const traceparent = extensions?.['traceparent'];
  if (extensions && 'traceparent' in extensions) {
    delete extensions['traceparent'];
    if (Object.keys(extensions).length === 0) delete (event as { extensions?: unknown }).extensions;
  }
  return typeof traceparent === 'string' ? traceparent : undefined;
}

/**
 * The span of one event delivered to the client: a child of the span that published it (so a
 * streamed answer shows token batch by token batch in the trace of its `ask`), linked to the
 * subscription's own span; without a publisher's context, a child of the subscription's context.
 */
function startEventSpan(
  options: FederatedSubscriptionOptions,
  traceparent: string | undefined,
  subscriptionContext: Context,
  seq: number,
): Span {
  const parent = traceparent ? extractTraceContext({ traceparent }) : subscriptionContext;
  const link = options.trace?.subscription;
  return tracer(GATEWAY_TRACER).startSpan(
    'subscription event',
    {
      kind: SpanKind.PRODUCER,
      links: link ? [{ context: link }] : [],
      attributes: { ...options.trace?.attributes, [ATTR.seq]: seq },
    },
    parent,
  );
}

export type FederatedSubscription = AsyncQueue<ExecutionResult>;

/**
 * One client subscription: the primary stream from the owning subgraph, each event run through
 * `rest` and shaped, delivered strictly in arrival order (events are processed one at a time).
 * When the client leaves (`return()`), the upstream subscription is ended at once. When the
 * upstream fails, what was already received is delivered, then a final result carrying the
 * coded error, then the stream completes.
 */
export function startFederatedSubscription(
  request: FederatedSubscriptionRequest,
  options: FederatedSubscriptionOptions,
): FederatedSubscription {
  let stopUpstream: () => void = () => undefined;
  // The bound is enforced below (received + waiting); the queue's own is only a backstop.
  const out = new AsyncQueue<ExecutionResult>(options.maxBuffered + 1, () => stopUpstream());
  let processing = 0;
  let tail: Promise<void> = Promise.resolve();
  const primaryVariables = Object.fromEntries(
    (request.plan.primary.variableUsages ?? []).filter((name) => name in request.variables).map((name) => [name, request.variables[name]]),
  );

  const telemetry = options.telemetry ?? NO_TELEMETRY;
  const traced = tracingEnabled();
  const subscriptionContext = activeContext();
  let events = 0;

  const enqueue = (step: () => Promise<void> | void) => {
    tail = tail.then(step).catch((error: unknown) => {
      options.logger.error({ err: error }, 'subscription event processing failed');
    });
  };

  stopUpstream = options.upstream.subscribe(request.plan.primary, primaryVariables, {
    next: (event) => {
      if (!out.isOpen) return;
      if (processing + out.size >= options.maxBuffered) {
        out.fail(slowConsumer(options.maxBuffered));
        options.onOverflow();
        return;
      }
      processing++;
      const traceparent = takeTraceparent(event);
      const span = traced ? startEventSpan(options, traceparent, subscriptionContext, events) : null;
      events++;
      const arrived = performance.now();
      enqueue(async () => {
        let result: ExecutionResult | null;
        const execute = () =>
          options.executeEvent(
            { ...request, context: { signedContext: options.signedContext(), requestId: request.requestId }, logger: options.logger },
            event,
          );
        try {
          result = await (span ? withActiveSpan(span, execute) : execute());
        } catch (error) {
          if (span) failSpan(span, error, 'subscription event');
          options.logger.error({ err: error }, 'could not execute a subscription event');
          result = { errors: [new GraphQLError('Unexpected error.', { extensions: { code: 'INTERNAL_SERVER_ERROR' } })] };
        } finally {
          processing--;
        }
        if (result) out.push(result);
        telemetry.subscriptionEvent((performance.now() - arrived) / 1000);
        span?.end();
      });
    },
    error: (errors) => {
      enqueue(() => {
        out.push({ errors });
        out.end();
      });
    },
    complete: () => enqueue(() => out.end()),
  });
  return out;
}
