import { PersistedClient, type PersistedQueryManifest } from './persisted-client';

export interface PartnerAnswer {
  id: string;
  status: string;
  text: string;
  needsHuman: boolean;
  sources: { id: string; title: string }[];
}

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
): Promise<{ tenant: { id: string; name: string }; sessionId: string; answer: PartnerAnswer }> {
  const client = new PersistedClient(options);
  const { tenant } = await client.run<{ tenant: { id: string; name: string } }>('PartnerTenant');
  const { startSession } = await client.run<{ startSession: { id: string } }>('PartnerStartSession');
  const { ask } = await client.run<{ ask: { answer: { id: string } } }>('PartnerAsk', {
    sessionId: startSession.id,
    text: options.question,
  });
  const deadline = Date.now() + (options.timeoutMs ?? 30_000);
  for (;;) {
    const { answer } = await client.run<{ answer: PartnerAnswer | null }>('PartnerAnswer', { id: ask.answer.id });
    if (answer && FINAL.has(answer.status)) return { tenant, sessionId: startSession.id, answer };
    if (Date.now() > deadline) throw new Error(`answer ${ask.answer.id} not final in time`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
