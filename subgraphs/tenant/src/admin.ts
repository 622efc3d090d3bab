import { forbidden, hasRole } from '@beedesk/runtime';
import type { TenantContext } from './context';

/** FORBIDDEN unless the caller is an admin of this tenant: "Only an admin of this tenant may <what>." */
export function requireAdmin(context: Pick<TenantContext, 'tenant'>, what: string): void {
  if (!hasRole(context.tenant, 'admin')) throw forbidden(`Only an admin of this tenant may ${what}.`);
}
