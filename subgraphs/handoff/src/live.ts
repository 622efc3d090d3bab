import { badInput, hasRole, newId, type EventStream, type HandoffPoke } from '@beedesk/runtime';
import { requireStaff } from './access';
import type { HandoffContext } from './context';
import type { HandoffEventRecord } from './data';

/** Entries read from the log at once. */
const PAGE = 200;
/** Read the log at least this often even without a poke (a poke lost with a Redis reconnect delays nothing longer). */
const SAFETY_POLL_MS = 1000;

/** `after` as a log position: a non-negative integer (the cursors events carry). */
export function parseCursor(after: string): number {
  if (!/^\d{1,15}$/.test(after)) throw badInput('after: a cursor from an earlier event or an inbox page', 'after');
  return Number(after);
}

/**
 * The staff subscription: every log entry after the cursor, in order, then live ones. It listens to the
 * tenant's poke channel first and reads the log from the cursor after, so nothing written in between is
 * missed; each poke (or, at the latest, the safety poll) reads on from the last delivered cursor, so an
 * entry is delivered once and never skipped. A cursor older than the kept log yields RESYNC_REQUIRED.
 * While an agent has it open they are ONLINE (a presence lease refreshed every third of its TTL).
 */
export async function handoffEventStream(
  after: string | null | undefined,
  context: HandoffContext,
): Promise<AsyncIterableIterator<HandoffEventRecord>> {
  requireStaff(context, 'follow the handoff events');
  const { tenantId, userId } = context.caller;
  const store = context.store;
  let cursor = after == null ? Number(await store.logCursor(tenantId)) : parseCursor(after);
  const pokes: EventStream<HandoffPoke> = await context.events.handoff(tenantId);
  const isAgent = hasRole(context.caller, 'agent');
  const connectionId = newId();
  const ttl = context.settings.HANDOFF_PRESENCE_TTL_MS;
  let refresh: NodeJS.Timeout | null = null;
  if (isAgent) {
    await store.ensureAgent(tenantId, userId);
    if (await store.connect(tenantId, userId, connectionId, ttl)) {
      await context.actions.poke(tenantId, await store.agentChanged(tenantId, userId));
      context.assigner.kick(tenantId);
    }
    refresh = setInterval(
      () => {
        void store.connect(tenantId, userId, connectionId, ttl).catch((error: unknown) => {
          context.log.warn({ err: error }, 'could not refresh an agent presence');
        });
      },
      Math.max(100, Math.floor(ttl / 3)),
    );
    refresh.unref();
    await store.markActive(tenantId);
    context.log.info({ agentId: userId }, 'agent console connected');
  }

  async function* stream(): AsyncGenerator<HandoffEventRecord> {
    let pending: Promise<IteratorResult<HandoffPoke>> | null = null;
    try {
      for (;;) {
        const { events, gap } = await store.eventsAfter(tenantId, cursor, PAGE);
        if (gap) {
          const newest = await store.logCursor(tenantId);
          cursor = Number(newest);
          yield resync(newest);
          continue;
        }
        for (const event of events) {
          cursor = Number(event.cursor);
          yield event;
        }
        if (events.length === PAGE) continue;
        pending ??= pokes.next();
        const woke = await Promise.race([
          pending.then((step) => (step.done ? 'ended' : 'poke')),
          new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), SAFETY_POLL_MS).unref()),
        ]);
        if (woke === 'ended') return;
        if (woke === 'poke') pending = null;
      }
    } finally {
      await pokes.return();
      if (refresh) clearInterval(refresh);
      if (isAgent) {
        try {
          if (await store.disconnect(tenantId, userId, connectionId)) {
            await context.actions.poke(tenantId, await store.agentChanged(tenantId, userId));
          }
          context.log.info({ agentId: userId }, 'agent console disconnected');
        } catch (error) {
          context.log.warn({ err: error }, 'could not record an agent leaving; their lease expires by itself');
        }
      }
    }
  }
  // An async generator handles return() only at its next yield; a quiet log would keep it (and the agent's
  // presence) alive after the client left. Ending the poke stream first wakes it up at once.
  const events = stream();
  const iterator: AsyncIterableIterator<HandoffEventRecord> = {
    next: () => events.next(),
    return: async () => {
      await pokes.return();
      return events.return(undefined);
    },
    throw: async (error: unknown) => {
      await pokes.return();
      return events.throw(error);
    },
    [Symbol.asyncIterator]: () => iterator,
  };
  return iterator;
}

function resync(cursor: string): HandoffEventRecord {
  return {
    cursor,
    kind: 'RESYNC_REQUIRED',
    at: new Date().toISOString(),
    conversationId: null,
    transition: null,
    message: null,
    note: null,
    typing: null,
    agentId: null,
  };
}
