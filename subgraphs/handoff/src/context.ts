import { hasRole, type BaseContext, type EventBus } from '@beedesk/runtime';
import { SessionRepository } from '@beedesk/session/data';
import type { Assigner } from './assigner';
import type { HandoffSettings } from './config';
import { HandoffActions, HandoffStore, type HandoffActor } from './data';

export interface HandoffContext extends BaseContext {
  actions: HandoffActions;
  store: HandoffStore;
  sessions: SessionRepository;
  /** Live events: pokes of the tenant's handoff channel feed the staff subscription. */
  events: EventBus;
  assigner: Assigner;
  settings: HandoffSettings;
  /** Tells another tenant's session ids from unknown ones (see session/src/data/session-ids.ts). */
  internalSecret: string;
  /** The tenant's online agents, read at most every quarter second (a subscription's context lives long). */
  onlineAgents(): Promise<Set<string>>;
  /**
   * Reads shared by every subscription of this process for a short while, keyed by what makes them
   * exact (e.g. a conversation as of one log entry): ten consoles delivering one event read it once.
   */
  shared<T>(key: string, read: () => Promise<T>): Promise<T>;
  /** The caller as an actor (staff: with their display name). */
  actor(): Promise<HandoffActor>;
}

export interface HandoffContextDeps {
  actions: HandoffActions;
  sessions: SessionRepository;
  events: EventBus;
  assigner: Assigner;
  settings: HandoffSettings;
  internalSecret: string;
}

/** How long a shared read is reused: a burst of deliveries of one event, not longer. */
const SHARED_TTL_MS = 1000;

export function contextFactory(deps: HandoffContextDeps) {
  const sharedReads = new Map<string, { at: number; value: Promise<unknown> }>();
  const shared = <T>(key: string, read: () => Promise<T>): Promise<T> => {
    const now = Date.now();
    const hit = sharedReads.get(key);
    if (hit && now - hit.at < SHARED_TTL_MS) return hit.value as Promise<T>;
    if (sharedReads.size > 5_000) {
      for (const [k, v] of sharedReads) if (now - v.at >= SHARED_TTL_MS) sharedReads.delete(k);
    }
    const value = read();
    sharedReads.set(key, { at: now, value });
    value.catch(() => sharedReads.delete(key));
    return value;
  };
  return (base: BaseContext): HandoffContext => {
    let online: { at: number; value: Promise<Set<string>> } | null = null;
    const { tenantId, userId } = base.caller;
    return {
      ...base,
      ...deps,
      store: deps.actions.store,
      shared,
      onlineAgents: () => {
        if (!online || Date.now() - online.at > 250) online = { at: Date.now(), value: deps.actions.store.onlineAgents(tenantId) };
        return online.value;
      },
      actor: async () => {
        if (hasRole(base.caller, 'admin') || hasRole(base.caller, 'agent')) {
          const agent = await deps.actions.store.agent(tenantId, userId);
          return { kind: hasRole(base.caller, 'admin') ? 'ADMIN' : 'AGENT', id: userId, displayName: agent?.displayName ?? null };
        }
        return { kind: 'CUSTOMER', id: userId, displayName: null };
      },
    };
  };
}
