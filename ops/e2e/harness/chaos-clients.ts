import type { Role } from '@beedesk/runtime';
import { BeedeskClient } from '@beedesk/sdk';
import WebSocket from 'ws';
import type { E2EEnvironment } from './cluster';
import type { AskRecord } from './steady-load';

/** The article every chaos scenario asks about (its questions are the steady load's). */
export const CARD_ARTICLE = {
  id: 'card',
  title: 'Card delivery',
  body: 'Cards arrive within 7 days.',
  questions: ['how long does card delivery take', 'where is my card'],
};

/** Where a user's client connects: one gateway, or a preferred one and those to fall back to. */
export type GatewayChoice = (user: string) => { url: string; fallbackUrls?: string[] };

/**
 * The SDK clients of one chaos scenario (graphql-ws over `ws`), each closed at the end, and the steps
 * every scenario shares: seeding a tenant and warming its model, and counting an answer's stored turns.
 */
export function chaosClients(
  e2e: Pick<E2EEnvironment, 'gatewayUrl' | 'token'>,
  gatewayOf: GatewayChoice = () => ({ url: e2e.gatewayUrl }),
) {
  const clients: BeedeskClient[] = [];

  async function clientOf(tenant: string, user: string, role: Role = 'customer'): Promise<BeedeskClient> {
    const client = new BeedeskClient({ ...gatewayOf(user), token: await e2e.token(tenant, user, role), webSocketImpl: WebSocket });
    clients.push(client);
    return client;
  }

  return {
    clientOf,

    /** How many assistant turns the session stored for the record's answer: 1, or 2 when answered twice. */
    async assistantTurns(record: AskRecord): Promise<number> {
      const client = await clientOf(record.tenant, record.user);
      const session = await client.session(record.sessionId!);
      return session!.turns.filter((t) => t.role === 'ASSISTANT' && t.answerId === record.answerId).length;
    },

    /**
     * The card article in the tenant, then one answered question per warm user: a tenant's first question
     * waits for its model's first build, which is not part of any scenario's figures.
     */
    async seedAndWarm(tenant: string, warmUsers: readonly string[] = ['warm']): Promise<void> {
      const admin = await clientOf(tenant, 'admin', 'admin');
      await admin.upsertArticle(CARD_ARTICLE);
      for (const user of warmUsers) {
        const warm = await clientOf(tenant, user);
        await warm.waitForAnswer((await warm.ask((await warm.startSession()).id, 'where is my card')).answer.id, { timeoutMs: 60_000 });
      }
    },

    async closeAll(): Promise<void> {
      for (const client of clients.splice(0)) await client.close().catch(() => undefined);
    },
  };
}
