import {
  PartnerAnswerDocument,
  PartnerAskDocument,
  PartnerStartSessionDocument,
  PartnerTenantDocument,
  type PartnerAnswerQuery,
  type PartnerTenantQuery,
} from './generated/operations';
import { PersistedClient, type PersistedQueryManifest } from './persisted-client';

export type PartnerAnswer = NonNullable<PartnerAnswerQuery['answer']>;

export interface PartnerExampleOptions {
  url: string;
  apiKey: string;
  manifest: PersistedQueryManifest;
  question: string;
  timeoutMs?: number;
  fetch?: typeof fetch;
}

const FINAL = new Set(['DONE', 'FALLBACK', 'FAILED']);

/**
 * What a partner's backend does: find out which tenant its key belongs to, open a session, ask a
 * question and wait for the answer, with persisted operations only.
 */
export async function runPartnerExample(
  options: PartnerExampleOptions,
): Promise<{ tenant: PartnerTenantQuery['tenant']; sessionId: string; answer: PartnerAnswer }> {
  const client = new PersistedClient(options);
  const { tenant } = await client.run(PartnerTenantDocument);
  const { startSession } = await client.run(PartnerStartSessionDocument);
  const { ask } = await client.run(PartnerAskDocument, { sessionId: startSession.id, text: options.question });
  const deadline = Date.now() + (options.timeoutMs ?? 30_000);
  for (;;) {
    const { answer } = await client.run(PartnerAnswerDocument, { id: ask.answer.id });
    if (answer && FINAL.has(answer.status)) return { tenant, sessionId: startSession.id, answer };
    if (Date.now() > deadline) throw new Error(`answer ${ask.answer.id} not final in time`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
