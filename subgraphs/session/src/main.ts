import { runSubgraphMain } from '@beedesk/runtime';
import { DEFAULT_PORTS } from '@beedesk/schema';
import { startSessionService } from './index';

void runSubgraphMain('session', DEFAULT_PORTS.session, async ({ deps }) => startSessionService(await deps()));
