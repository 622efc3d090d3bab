import { createInProcessEventBus, loadConfig, startSubgraph, type EventBus, type ServiceDeps, type StartedService } from '@beedesk/runtime';
import { subgraphSdl } from '@beedesk/schema';
import { SessionRepository } from '@beedesk/session/data';
import { startAssigner } from './assigner';
import { handoffSettings, type HandoffSettings } from './config';
import { contextFactory } from './context';
import { HandoffActions } from './data';
import { resolvers } from './resolvers';

export { DEFAULT_HANDOFF_SETTINGS, handoffSettings, type HandoffSettings } from './config';

export interface HandoffServiceDeps extends ServiceDeps {
  /** Staff subscriptions listen to the tenants' handoff channels; an in-process bus when omitted (tests). */
  events?: EventBus;
  /** Defaults to the HANDOFF_* environment settings. */
  settings?: HandoffSettings;
}

/** Human handoff: ownership, the waiting line and its assigner, agents and presence, notes, typing, the staff event log. */
export async function startHandoffService(deps: HandoffServiceDeps): Promise<StartedService> {
  const events = deps.events ?? createInProcessEventBus(deps.keyPrefix, deps.logger);
  const settings = deps.settings ?? loadConfig(handoffSettings);
  const actions = HandoffActions.create(deps.redis, deps.keyPrefix, events, deps.logger);
  const assigner = startAssigner(deps.redis, deps.keyPrefix, actions, settings, deps.logger.child({ component: 'assigner' }));
  const server = await startSubgraph(deps, {
    name: 'handoff',
    sdl: subgraphSdl('handoff'),
    resolvers,
    createContext: contextFactory({
      actions,
      sessions: new SessionRepository(deps.redis, deps.keyPrefix),
      events,
      assigner,
      settings,
      internalSecret: deps.internalSecret,
    }),
  });
  return {
    port: server.port,
    close: async () => {
      await assigner.stop();
      await server.close();
    },
  };
}
