import { createHash, randomBytes } from 'node:crypto';
import {
  execOrThrow,
  isTenantId,
  newId,
  parseJson,
  tenantChannels,
  TenantStore,
  type CredentialsChange,
  type Role,
} from '@beedesk/runtime';

/**
 * Partner API keys look like `bdk_<tenantId>_<secret>`: the tenant part tells the gateway under which
 * tenant's hash tag to look (it never reads another tenant's keys), the secret is 32 random bytes
 * (base64url, 43 characters). Tenant ids never contain `_`, so the first `_` after `bdk_` ends it.
 */
export const API_KEY_SCHEME = 'bdk';
const SECRET_BYTES = 32;
const SECRET = /^[A-Za-z0-9_-]{43}$/;
/** Characters of the secret kept in the non-secret prefix shown to admins (36 of its 256 bits). */
const PREFIX_SECRET_CHARS = 6;

/** What an admin sees of a key: everything but the secret. */
export interface ApiKeyRecord {
  id: string;
  name: string;
  roles: Role[];
  /** The key may only run persisted (trusted) operations. */
  persistedOnly: boolean;
  /** Non-secret start of the key, for recognising it (e.g. `bdk_demo-bank_Xy3kQ9`). */
  prefix: string;
  createdAt: string;
  /** The user id of the admin who created it. */
  createdBy: string;
  /** Null while the key works. */
  revokedAt: string | null;
}

interface StoredApiKey extends ApiKeyRecord {
  secretHash: string;
}

export interface NewApiKey {
  name: string;
  roles: Role[];
  persistedOnly: boolean;
  createdBy: string;
}

/** A newly created key: its record and the key itself, which is never stored and never shown again. */
export interface IssuedApiKey {
  record: ApiKeyRecord;
  key: string;
}

/** A key that verified: its tenant (taken from the key, then confirmed by the lookup under that tenant) and record. */
export interface VerifiedApiKey {
  tenantId: string;
  record: ApiKeyRecord;
}

export function parseApiKey(key: string): { tenantId: string; secret: string } | null {
  const head = `${API_KEY_SCHEME}_`;
  if (!key.startsWith(head)) return null;
  const rest = key.slice(head.length);
  const split = rest.indexOf('_');
  if (split <= 0) return null;
  const tenantId = rest.slice(0, split);
  const secret = rest.slice(split + 1);
  return isTenantId(tenantId) && SECRET.test(secret) ? { tenantId, secret } : null;
}

/**
 * SHA-256 of the whole key (tenant part included, so a key only hashes to its own tenant's entry).
 * A fast hash is enough here: the secret is 256 random bits, so there is nothing to guess or brute-force
 * (slow password hashes exist for low-entropy human passwords), and it keeps per-request lookup cheap.
 */
export const hashApiKey = (key: string): string => createHash('sha256').update(key, 'utf8').digest('hex');

const publicRecord = ({ secretHash: _secretHash, ...record }: StoredApiKey): ApiKeyRecord => record;

/**
 * A tenant's partner API keys. Only the hash of a key is stored; the lookup index (hash → id) is deleted
 * when a key is revoked, so a revoked key fails on the very next request (the gateway does not cache).
 */
export class ApiKeyRepository extends TenantStore {
  async create(tenantId: string, input: NewApiKey, now = new Date()): Promise<IssuedApiKey> {
    const secret = randomBytes(SECRET_BYTES).toString('base64url');
    const key = `${API_KEY_SCHEME}_${tenantId}_${secret}`;
    const stored: StoredApiKey = {
      id: newId(),
      name: input.name,
      roles: [...new Set(input.roles)],
      persistedOnly: input.persistedOnly,
      prefix: `${API_KEY_SCHEME}_${tenantId}_${secret.slice(0, PREFIX_SECRET_CHARS)}`,
      createdAt: now.toISOString(),
      createdBy: input.createdBy,
      revokedAt: null,
      secretHash: hashApiKey(key),
    };
    const keys = this.keys(tenantId);
    await execOrThrow(
      this.redis
        .multi()
        .set(keys.apiKey(stored.id), JSON.stringify(stored))
        .sadd(keys.apiKeyIds, stored.id)
        .set(keys.apiKeyBySecretHash(stored.secretHash), stored.id),
    );
    return { record: publicRecord(stored), key };
  }

  /** The key's tenant and record, or null when the key is malformed, unknown or revoked. */
  async verify(key: string): Promise<VerifiedApiKey | null> {
    const parsed = parseApiKey(key);
    if (!parsed) return null;
    const keys = this.keys(parsed.tenantId);
    const secretHash = hashApiKey(key);
    const id = await this.redis.get(keys.apiKeyBySecretHash(secretHash));
    if (!id) return null;
    const stored = parseJson<StoredApiKey>(await this.redis.get(keys.apiKey(id)));
    if (!stored || stored.revokedAt !== null || stored.secretHash !== secretHash) return null;
    return { tenantId: parsed.tenantId, record: publicRecord(stored) };
  }

  /** True when an active key was revoked now; false when it is unknown or was already revoked. */
  async revoke(tenantId: string, id: string, now = new Date()): Promise<boolean> {
    const keys = this.keys(tenantId);
    const stored = parseJson<StoredApiKey>(await this.redis.get(keys.apiKey(id)));
    if (!stored || stored.revokedAt !== null) return false;
    const revoked: StoredApiKey = { ...stored, revokedAt: now.toISOString() };
    const change: CredentialsChange = { kind: 'api-key-revoked', apiKeyId: id };
    await execOrThrow(
      this.redis
        .multi()
        .set(keys.apiKey(id), JSON.stringify(revoked))
        .del(keys.apiKeyBySecretHash(stored.secretHash))
        // Gateways end the key's open subscriptions (requests fail from now on anyway: nothing caches the key).
        .publish(tenantChannels(this.prefix, tenantId).credentials, JSON.stringify(change)),
    );
    return true;
  }

  /** Every key of the tenant, revoked ones included (for the record), oldest first. */
  async list(tenantId: string): Promise<ApiKeyRecord[]> {
    const keys = this.keys(tenantId);
    const ids = await this.redis.smembers(keys.apiKeyIds);
    if (ids.length === 0) return [];
    const raw = await this.redis.mget(ids.map((id) => keys.apiKey(id)));
    return raw
      .map((value) => parseJson<StoredApiKey>(value))
      .filter((stored): stored is StoredApiKey => stored !== null)
      .map(publicRecord)
      .sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id));
  }

  async countActive(tenantId: string): Promise<number> {
    return (await this.list(tenantId)).filter((record) => record.revokedAt === null).length;
  }
}
