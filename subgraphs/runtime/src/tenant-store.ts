import type { Redis } from './redis';
import { tenantKeys, type TenantKeys } from './keys';

/** Base of the repositories: one Redis client and the key prefix, keys always built per tenant. */
export abstract class TenantStore {
  constructor(
    protected readonly redis: Redis,
    protected readonly prefix: string,
  ) {}

  protected keys(tenantId: string): TenantKeys {
    return tenantKeys(this.prefix, tenantId);
  }
}

export function parseJson<T>(raw: string | null | undefined): T | null {
  return raw ? (JSON.parse(raw) as T) : null;
}
