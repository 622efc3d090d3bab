import { runSubgraphMain } from '@beedesk/runtime';
import { DEFAULT_PORTS } from '@beedesk/schema';
import { startTenantService } from './index';

void runSubgraphMain('tenant', DEFAULT_PORTS.tenant, async ({ deps }) => startTenantService(await deps()));
