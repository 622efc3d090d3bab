import { randomBytes, timingSafeEqual } from 'node:crypto';
import { isTenantId, TenantStore } from '@beedesk/runtime';

/**
 * Widget keys look like `bdw_<tenantId>_<random>`: public (they sit in the host page), so the random part
 * is only there to make a rotated key unusable and to keep keys unguessable across tenants. The tenant
 * part tells the gateway under which tenant's hash tag to look; it never reads another tenant's settings.
 */
export const WIDGET_KEY_SCHEME = 'bdw';
const KEY_RANDOM = /^[A-Za-z0-9_-]{22}$/;

export type WidgetPosition = 'BOTTOM_RIGHT' | 'BOTTOM_LEFT';
export const WIDGET_POSITIONS: readonly WidgetPosition[] = ['BOTTOM_RIGHT', 'BOTTOM_LEFT'];
export const DEFAULT_WIDGET_THEME_COLOR = '#1f5fbf';

/** The widget settings of one tenant, as stored (the identity secret never leaves the tenant package and gateway). */
export interface WidgetSettingsRecord {
  key: string;
  allowedOrigins: string[];
  themeColor: string;
  greeting: string;
  position: WidgetPosition;
  /** HS256 secret for identity-verified visitors; null until an admin creates one. */
  identitySecret: string | null;
  updatedAt: string | null;
}

export interface WidgetSettingsUpdate {
  allowedOrigins?: string[];
  themeColor?: string;
  greeting?: string;
  position?: WidgetPosition;
}

export function parseWidgetKey(key: string): { tenantId: string } | null {
  const head = `${WIDGET_KEY_SCHEME}_`;
  if (!key.startsWith(head) || key.length > 200) return null;
  const rest = key.slice(head.length);
  const split = rest.indexOf('_');
  if (split <= 0) return null;
  const tenantId = rest.slice(0, split);
  return isTenantId(tenantId) && KEY_RANDOM.test(rest.slice(split + 1)) ? { tenantId } : null;
}

const newKey = (tenantId: string): string => `${WIDGET_KEY_SCHEME}_${tenantId}_${randomBytes(16).toString('base64url')}`;

const sameText = (a: string, b: string): boolean => {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
};

/**
 * The widget settings of each tenant, one hash per tenant (`…:{tenant}:widget`). The tenant subgraph
 * writes them (admins); the gateway reads them to exchange a widget key for a visitor token.
 */
export class WidgetSettingsRepository extends TenantStore {
  /** The tenant's settings; its public key is created on first use (HSETNX, so concurrent first reads agree). */
  async get(tenantId: string): Promise<WidgetSettingsRecord> {
    const key = this.keys(tenantId).widget;
    let fields = await this.redis.hgetall(key);
    if (!fields['key']) {
      await this.redis.hsetnx(key, 'key', newKey(tenantId));
      fields = await this.redis.hgetall(key);
    }
    return recordOf(fields);
  }

  /** The settings a widget key opens, or null (malformed, unknown, rotated). Never creates anything. */
  async byKey(widgetKey: string): Promise<{ tenantId: string; settings: WidgetSettingsRecord } | null> {
    const parsed = parseWidgetKey(widgetKey);
    if (!parsed) return null;
    const fields = await this.redis.hgetall(this.keys(parsed.tenantId).widget);
    if (!fields['key'] || !sameText(fields['key'], widgetKey)) return null;
    return { tenantId: parsed.tenantId, settings: recordOf(fields) };
  }

  async update(tenantId: string, update: WidgetSettingsUpdate, now = new Date()): Promise<WidgetSettingsRecord> {
    await this.get(tenantId);
    const fields: Record<string, string> = { updatedAt: now.toISOString() };
    if (update.allowedOrigins !== undefined) fields['allowedOrigins'] = JSON.stringify(update.allowedOrigins);
    if (update.themeColor !== undefined) fields['themeColor'] = update.themeColor;
    if (update.greeting !== undefined) fields['greeting'] = update.greeting;
    if (update.position !== undefined) fields['position'] = update.position;
    await this.redis.hset(this.keys(tenantId).widget, fields);
    return this.get(tenantId);
  }

  async rotateKey(tenantId: string, now = new Date()): Promise<WidgetSettingsRecord> {
    await this.redis.hset(this.keys(tenantId).widget, { key: newKey(tenantId), updatedAt: now.toISOString() });
    return this.get(tenantId);
  }

  /** A new identity secret (32 random bytes, base64url), replacing any earlier one. */
  async rotateIdentitySecret(tenantId: string, now = new Date()): Promise<string> {
    await this.get(tenantId);
    const secret = randomBytes(32).toString('base64url');
    await this.redis.hset(this.keys(tenantId).widget, { identitySecret: secret, updatedAt: now.toISOString() });
    return secret;
  }
}

function recordOf(fields: Record<string, string>): WidgetSettingsRecord {
  let origins: unknown = [];
  try {
    origins = JSON.parse(fields['allowedOrigins'] ?? '[]');
  } catch {
    origins = [];
  }
  const position = fields['position'];
  return {
    key: fields['key'] ?? '',
    allowedOrigins: Array.isArray(origins) ? origins.filter((o): o is string => typeof o === 'string') : [],
    themeColor: fields['themeColor'] || DEFAULT_WIDGET_THEME_COLOR,
    greeting: fields['greeting'] ?? '',
    position: position === 'BOTTOM_LEFT' ? 'BOTTOM_LEFT' : 'BOTTOM_RIGHT',
    identitySecret: fields['identitySecret'] || null,
    updatedAt: fields['updatedAt'] || null,
  };
}

/** `scheme://host[:port]` as browsers send it in `Origin`, or null (paths, credentials, other schemes). */
export function normaliseOrigin(value: string): string | null {
  let url: URL;
  try {
    url = new URL(value.trim());
  } catch {
    return null;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return null;
  if (url.username || url.password || (url.pathname !== '/' && url.pathname !== '') || url.search || url.hash) return null;
  return url.origin;
}
