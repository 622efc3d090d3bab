import {
  credentialsChangedPattern,
  newId,
  tenantOfCredentialsChannel,
  type CredentialsChange,
  type Logger,
  type Redis,
} from '@beedesk/runtime';
import type { Credentials } from '../caller';
import type { Admission, AdmittedConnection } from '../pipeline';

/** An open client connection (a graphql-ws socket, an SSE stream) and what it proved at its start. */
export interface WatchedConnection {
  authentication: AdmittedConnection;
  credentials: Credentials;
  /** Ends the connection's subscriptions with UNAUTHENTICATED (`reason` says why); idempotent. */
  end(reason: string): void;
}

export interface CredentialsWatchOptions {
  redis: Redis;
  keyPrefix: string;
  /** Re-checks a connection's credentials exactly as at its start (the pipeline's `connect`). */
  admission: Pick<Admission, 'connect'>;
  logger: Logger;
  /**
   * API-key connections are re-checked this often even without a notification (a PUBLISH lost while
   * this replica's subscriber reconnected); 0: never. Default 30 s.
   */
  recheckEveryMs?: number;
}

const sameRoles = (a: readonly string[], b: readonly string[]): boolean => a.length === b.length && a.every((role) => b.includes(role));

/**
 * Ends open subscriptions whose credentials no longer hold, within seconds, on every gateway replica:
 * the tenant subgraph publishes a CredentialsChange on the tenant's `credentials` channel when an API
 * key is revoked or the tenant is erased, and every gateway listens (one PSUBSCRIBE per replica).
 * An erased tenant's connections all end; otherwise the tenant's connections are re-authenticated and
 * those refused, or whose tenant, user or roles changed, end. Tokens need no notification: their
 * expiry ends them (graphql-ws.ts, sse.ts).
 */
export function createCredentialsWatch(options: CredentialsWatchOptions) {
  const byTenant = new Map<string, Set<WatchedConnection>>();
  const log = options.logger.child({ component: 'credentials-watch' });
  let subscriber: Redis | null = null;
  let closed = false;

  async function recheck(connection: WatchedConnection): Promise<void> {
    const result = await options.admission.connect(connection.authentication.transport, connection.credentials, newId());
    if (!result.ok) {
      // The key store did not answer: keep the connection, the next check decides.
      if (result.status === 503) return;
      return connection.end(result.errors[0]?.message ?? 'The credentials are no longer valid.');
    }
    const before = connection.authentication.caller;
    const now = result.caller;
    if (now.tenantId !== before.tenantId || now.userId !== before.userId || !sameRoles(now.roles, before.roles)) {
      connection.end('The credentials changed (roles); connect again.');
    }
  }

  function recheckAll(filter: (connection: WatchedConnection) => boolean, tenantId?: string): void {
    const tenants = tenantId === undefined ? [...byTenant.values()] : [byTenant.get(tenantId) ?? new Set<WatchedConnection>()];
    for (const connections of tenants) {
      for (const connection of [...connections]) {
        if (!filter(connection)) continue;
        recheck(connection).catch((error: unknown) =>
          log.warn({ err: error, tenantId: connection.authentication.caller.tenantId }, 'credential re-check failed'),
        );
      }
    }
  }

  function onChange(tenantId: string, change: CredentialsChange): void {
    const connections = byTenant.get(tenantId);
    if (!connections || connections.size === 0) return;
    if (change.kind === 'tenant-erased') {
      log.info({ tenantId, connections: connections.size }, 'tenant erased: ending its subscriptions');
      for (const connection of [...connections]) connection.end('The tenant was erased.');
      return;
    }
    if (change.kind === 'api-key-revoked') {
      for (const connection of [...connections]) {
        const { credential } = connection.authentication;
        if (credential.kind === 'api-key' && credential.keyId === change.apiKeyId) connection.end('The API key was revoked.');
      }
      return;
    }
    // A change this gateway does not know yet: re-check every connection of the tenant.
    recheckAll(() => true, tenantId);
  }

  async function start(): Promise<void> {
    const connection = options.redis.duplicate();
    subscriber = connection;
    connection.on('error', () => undefined); // ioredis reconnects (and re-subscribes) by itself
    let readies = 0;
    // After a reconnect a notification may have been missed: re-check the API-key connections.
    connection.on('ready', () => {
      if (readies++ > 0) recheckAll((c) => c.authentication.credential.kind === 'api-key');
    });
    connection.on('pmessage', (_pattern: string, channel: string, message: string) => {
      const tenantId = tenantOfCredentialsChannel(options.keyPrefix, channel);
      if (!tenantId) return;
      let change: CredentialsChange;
      try {
        change = JSON.parse(message) as CredentialsChange;
      } catch {
        return log.warn({ tenantId }, 'dropped a credentials notification that is not JSON');
      }
      onChange(tenantId, change);
    });
    await connection.psubscribe(credentialsChangedPattern(options.keyPrefix));
  }

  const ready = start().catch((error: unknown) => log.error({ err: error }, 'cannot listen for credential changes'));
  const recheckEveryMs = options.recheckEveryMs ?? 30_000;
  const timer =
    recheckEveryMs > 0 ? setInterval(() => recheckAll((c) => c.authentication.credential.kind === 'api-key'), recheckEveryMs) : null;
  timer?.unref();

  return {
    /** Resolves once notifications are being received. */
    ready,
    /** Watches a connection until the returned function is called (when it closes, however it closes). */
    watch(connection: WatchedConnection): () => void {
      if (closed || connection.authentication.credential.kind === 'anonymous') return () => undefined;
      const tenantId = connection.authentication.caller.tenantId;
      let connections = byTenant.get(tenantId);
      if (!connections) byTenant.set(tenantId, (connections = new Set()));
      connections.add(connection);
      return () => {
        const set = byTenant.get(tenantId);
        set?.delete(connection);
        if (set?.size === 0) byTenant.delete(tenantId);
      };
    },
    get watched(): number {
      let count = 0;
      for (const connections of byTenant.values()) count += connections.size;
      return count;
    },
    async close(): Promise<void> {
      closed = true;
      if (timer) clearInterval(timer);
      byTenant.clear();
      await ready;
      try {
        await subscriber?.quit();
      } catch {
        subscriber?.disconnect();
      }
    },
  };
}
export type CredentialsWatch = ReturnType<typeof createCredentialsWatch>;
