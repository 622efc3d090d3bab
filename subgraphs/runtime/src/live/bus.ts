import { AsyncQueue } from '../async-queue';
import type { ActivityEventMessage, AnswerEventMessage, EventPublisher, HandoffPoke } from '../events';
import { tenantChannels } from '../keys';
import type { Logger } from '../logger';
import { ATTR, currentTraceparent, inSpan, SpanKind, tracingEnabled } from '../tracing';
import type { EventTransport } from './transport';

/**
 * The field of a live event's JSON that carries the publisher's trace context (W3C `traceparent`),
 * so the gateway's span for delivering the event joins the trace of the answer that produced it.
 */
export const TRACEPARENT_FIELD = 'traceparent';

/** Publishes `message` in a PRODUCER span (`publish <kind>`) whose context travels in the message. */
function publishTraced(transport: EventTransport, kind: string, tenantId: string, channel: string, message: object): Promise<void> {
  if (!tracingEnabled()) return transport.publish(channel, JSON.stringify(message));
  return inSpan(
    '@beedesk/runtime/live',
    `publish ${kind}`,
    {
      kind: SpanKind.PRODUCER,
      attributes: {
        'messaging.system': 'redis',
        'messaging.operation.type': 'send',
        'messaging.operation.name': 'publish',
        'messaging.destination.template': `events:${kind}`,
        [ATTR.tenant]: tenantId,
      },
    },
    async () => {
      const traceparent = currentTraceparent();
      await transport.publish(channel, JSON.stringify(traceparent ? { ...message, [TRACEPARENT_FIELD]: traceparent } : message));
    },
  );
}

/** A live stream of one subscriber; `return()` unsubscribes at once. */
export type EventStream<T> = AsyncIterableIterator<T> & { return(): Promise<IteratorResult<T>> };

export interface EventSubscriber {
  /** Every answer event of one session; resolves once listening. */
  answerEvents(tenantId: string, sessionId: string): Promise<EventStream<AnswerEventMessage>>;
  /** The tenant's activity feed; resolves once listening. */
  activity(tenantId: string): Promise<EventStream<ActivityEventMessage>>;
  /** The tenant's handoff pokes (new log entries, line changes); resolves once listening. */
  handoff(tenantId: string): Promise<EventStream<HandoffPoke>>;
}

/** Both sides of live events, plus how many streams are open (for /metrics). */
export interface EventBus extends EventPublisher, EventSubscriber {
  readonly openStreams: number;
  close(): Promise<void>;
}

export interface EventBusOptions {
  keyPrefix: string;
  logger: Logger;
  /** Events buffered per subscriber before it is dropped as too slow. */
  maxBuffered?: number;
}

const isAnswerEvent = (v: Partial<AnswerEventMessage>): v is AnswerEventMessage =>
  typeof v.answerId === 'string' && typeof v.sessionId === 'string' && typeof v.seq === 'number' && typeof v.kind === 'string';
const isPoke = (v: Partial<HandoffPoke>): v is HandoffPoke => typeof v === 'object' && v !== null && 'cursor' in v;
const isActivity = (v: Partial<ActivityEventMessage>): v is ActivityEventMessage =>
  typeof v.kind === 'string' && typeof v.sessionId === 'string' && typeof v.at === 'string';

/** Typed, tenant-scoped channels over a transport (Redis or in-process). */
export function createEventBus(transport: EventTransport, options: EventBusOptions): EventBus {
  const maxBuffered = options.maxBuffered ?? 1000;
  const streams = new Set<AsyncQueue<unknown>>();

  async function listen<T>(channel: string, accept: (value: Partial<T>) => value is T): Promise<EventStream<T>> {
    let unsubscribe: (() => void) | null = null;
    let released = false;
    const queue: AsyncQueue<T> = new AsyncQueue<T>(maxBuffered, () => {
      released = true;
      streams.delete(queue as AsyncQueue<unknown>);
      unsubscribe?.();
    });
    streams.add(queue as AsyncQueue<unknown>);
    const off = await transport.subscribe(channel, (message) => {
      let value: Partial<T>;
      try {
        value = JSON.parse(message) as Partial<T>;
      } catch {
        options.logger.warn({ channel }, 'dropped a live event that is not JSON');
        return;
      }
      if (accept(value)) queue.push(value);
      else options.logger.warn({ channel }, 'dropped a malformed live event');
    });
    // The consumer may have left while the SUBSCRIBE was in flight.
    if (released) off();
    else unsubscribe = off;
    return queue;
  }

  return {
    get openStreams() {
      return streams.size;
    },
    publishAnswerEvent: (tenantId, event) =>
      publishTraced(transport, 'answers', tenantId, tenantChannels(options.keyPrefix, tenantId).answers(event.sessionId), event),
    publishActivity: (tenantId, event) =>
      publishTraced(transport, 'activity', tenantId, tenantChannels(options.keyPrefix, tenantId).activity, event),
    answerEvents: (tenantId, sessionId) => listen(tenantChannels(options.keyPrefix, tenantId).answers(sessionId), isAnswerEvent),
    activity: (tenantId) => listen(tenantChannels(options.keyPrefix, tenantId).activity, isActivity),
    publishHandoff: (tenantId, poke) => transport.publish(tenantChannels(options.keyPrefix, tenantId).handoff, JSON.stringify(poke)),
    handoff: (tenantId) => listen(tenantChannels(options.keyPrefix, tenantId).handoff, isPoke),
    close: async () => {
      for (const stream of [...streams]) stream.end();
      await transport.close();
    },
  };
}
