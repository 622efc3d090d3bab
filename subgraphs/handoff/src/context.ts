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
  /** The tenant's online agents, read once per request. */
  onlineAgents(): Promise<Set<string>>;
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

export function contextFactory(deps: HandoffContextDeps) {
  return (base: BaseContext): HandoffContext => {
    let online: Promise<Set<string>> | null = null;
    const { tenantId, userId } = base.caller;
    return {
      ...base,
      ...deps,
      store: deps.actions.store,
      onlineAgents: () => (online ??= deps.actions.store.onlineAgents(tenantId)),
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
