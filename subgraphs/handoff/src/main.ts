import { runSubgraphMain } from '@beedesk/runtime';
import { DEFAULT_PORTS } from '@beedesk/schema';
import { startHandoffService } from './index';

void runSubgraphMain('handoff', DEFAULT_PORTS.handoff, async ({ deps }) => startHandoffService(await deps()));
