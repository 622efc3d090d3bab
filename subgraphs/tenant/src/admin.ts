import { forbidden, hasRole } from '@beedesk/runtime';
import type { TenantSubgraphContext } from './context';

/** FORBIDDEN unless the caller is an admin of this tenant: "Only an admin of this tenant may <what>." */
export function requireAdmin(context: Pick<TenantSubgraphContext, 'caller'>, what: string): void {
  if (!hasRole(context.caller, 'admin')) throw forbidden(`Only an admin of this tenant may ${what}.`);
}
