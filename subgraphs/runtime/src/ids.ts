import { randomUUID } from 'node:crypto';

/** Ids we mint are UUIDs; ids we accept from callers must at least be safe inside a Redis key. */
export const newId = (): string => randomUUID();

const SAFE_ID = /^[A-Za-z0-9_-]{1,64}$/;
export const isSafeId = (id: string): boolean => SAFE_ID.test(id);

const TENANT_ID = /^[a-z0-9][a-z0-9-]{0,62}$/;
export const isTenantId = (id: string): boolean => TENANT_ID.test(id);

/**
 * User ids come from token subjects (emails, URNs…): escape what would break a key or a hash tag.
 * Injective, so two distinct ids never share a key: a code unit below U+0100 becomes `%xx`, any other
 * `%uxxxx` (`u` is no hex digit, so a decoder always knows the width). Ids of Latin-1 characters
 * only (nearly all: emails, `auth0|…`) keep the key they had under the earlier encoding
 * (legacyKeyPart); only ids with wider characters moved.
 */
export function keyPart(value: string): string {
  return value.replace(/[^A-Za-z0-9._@-]/g, (c) => {
    const code = c.charCodeAt(0);
    return code < 0x100 ? `%${code.toString(16).padStart(2, '0')}` : `%u${code.toString(16).padStart(4, '0')}`;
  });
}

/**
 * The encoding keys were written with before keyPart became injective: variable-width hex, so
 * `auth0|5f2d3c` and `auth0\u7c5f2d3c` both gave `auth0%7c5f2d3c`. Read only to find data written
 * then (dual read); what it finds must be checked to belong to the user, because the key may be
 * shared with another user's.
 */
export function legacyKeyPart(value: string): string {
  return value.replace(/[^A-Za-z0-9._@-]/g, (c) => `%${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}
