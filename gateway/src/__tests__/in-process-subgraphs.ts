import { startAnswerService } from '@beedesk/answer';
import { InProcessQueue, type EventBus, type Logger, type Redis, type StartedService } from '@beedesk/runtime';
import { startSessionService } from '@beedesk/session';
import { startTenantService } from '@beedesk/tenant';

export interface InProcessSubgraphs {
  tenant: StartedService;
  session: StartedService;
  answer: StartedService;
}

/**
 * The tenant, session and answer subgraphs on the embedded default's in-process Redis and event bus, on
 * ephemeral ports: what the gateway's tests run the real gateway against (inference is not started).
 */
export async function startInProcessSubgraphs(deps: {
  redis: Redis;
  events: EventBus;
  keyPrefix: string;
  internalSecret: string;
  logger: Logger;
}): Promise<InProcessSubgraphs> {
  const common = { ...deps, host: '127.0.0.1', port: 0, defaultMetrics: false };
  const tenant = await startTenantService(common);
  const session = await startSessionService(common);
  const answer = await startAnswerService({ ...common, queue: new InProcessQueue(deps.logger) });
  return { tenant, session, answer };
}
