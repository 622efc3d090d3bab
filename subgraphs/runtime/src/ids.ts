import { randomUUID } from 'node:crypto';

/** Ids we mint are UUIDs; ids we accept from callers must at least be safe inside a Redis key. */
export const newId = (): string => randomUUID();

const SAFE_ID = /^[A-Za-z0-9_-]{1,64}$/;
export const isSafeId = (id: string): boolean => SAFE_ID.test(id);

const TENANT_ID = /^[a-z0-9][a-z0-9-]{0,62}$/;
export const isTenantId = (id: string): boolean => TENANT_ID.test(id);

/** User ids come from token subjects (emails, URNs…): escape what would break a key or a hash tag. */
export function keyPart(value: string): string {
  return value.replace(/[^A-Za-z0-9._@-]/g, (c) => `%${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}
