export const ROLES = ['customer', 'agent', 'admin'] as const;
export type Role = (typeof ROLES)[number];
export const isRole = (value: unknown): value is Role => typeof value === 'string' && (ROLES as readonly string[]).includes(value);

/**
 * The authenticated caller of one request: who the gateway verified (JWT or API key), passed to
 * subgraphs signed (signed-context.ts) and handed to every resolver as `context.caller`.
 */
export interface Caller {
  tenantId: string;
  userId: string;
  roles: Role[];
  requestId: string;
}

export const hasRole = (caller: Caller, ...roles: Role[]): boolean => roles.some((r) => caller.roles.includes(r));
/** Staff see all of their tenant's sessions; customers only their own. */
export const isStaff = (caller: Caller): boolean => hasRole(caller, 'agent', 'admin');

/** Customers reach their own sessions and answers; agents and admins every one of their tenant. */
export const mayAccess = (caller: Caller, record: { userId: string }): boolean => isStaff(caller) || record.userId === caller.userId;
