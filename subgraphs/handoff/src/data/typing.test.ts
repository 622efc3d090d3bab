import { connectRedis, createLogger, keysMatching, type AnswerEventMessage, type EventPublisher, type Redis } from '@beedesk/runtime';
import { HandoffActions } from './actions';
import type { HandoffActor, HandoffEventRecord } from './records';

// Typing indicators switching themselves off, against the real Redis (REDIS_URL or 127.0.0.1:6379), under a
// key prefix of its own that it removes after.
describe('typing off when the indicator lapses (real Redis)', () => {
  const prefix = `unit-typing-${process.pid}-${Date.now()}`;
  const tenantId = 'ta';
  const agent: HandoffActor = { kind: 'AGENT', id: 'agent-1', displayName: 'Ann' };
  const TTL = 200;
  let redis: Redis;
  let actions: HandoffActions;
  const published: AnswerEventMessage[] = [];
  const events: EventPublisher = {
    publishAnswerEvent: async (_tenantId, event) => {
      published.push(event);
    },
    publishActivity: async () => undefined,
    publishHandoff: async () => undefined,
  };
  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

  beforeAll(async () => {
    redis = await connectRedis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
    actions = HandoffActions.create(redis, prefix, events, createLogger('test', 'silent'));
  });
  afterAll(async () => {
    const found = await keysMatching(redis, `${prefix}:*`);
    if (found.length) await redis.del(...found);
    redis.disconnect();
  });

  /** As the setTyping mutation does: the indicator, its log entry, and the watch for its lapse. */
  async function setTyping(sessionId: string, typing: boolean): Promise<void> {
    const expiresAt = typing ? new Date(Date.now() + TTL).toISOString() : null;
    const { token } = await actions.store.setTyping(tenantId, sessionId, 'agent', { actor: agent, typing, expiresAt }, TTL);
    if (token) actions.watchTypingLapse(tenantId, sessionId, 'agent', token, agent, TTL);
  }

  async function typingEntries(sessionId: string): Promise<HandoffEventRecord['typing'][]> {
    const { events: entries } = await actions.store.eventsAfter(tenantId, 0, 1000);
    return entries.filter((e) => e.kind === 'TYPING' && e.conversationId === sessionId).map((e) => e.typing);
  }
  const customerUpdates = (sessionId: string) =>
    published.filter((e) => e.sessionId === sessionId && e.kind === 'AGENT_TYPING').map((e) => e.handoff?.typing);

  it('tells staff and the customer once that typing stopped when nobody refreshed it', async () => {
    await setTyping('s1', true);
    await sleep(TTL * 3);
    expect(await actions.store.typing(tenantId, 's1', 'agent')).toBe(false);
    expect(await typingEntries('s1')).toEqual([
      { actor: agent, typing: true, expiresAt: expect.any(String) },
      { actor: agent, typing: false, expiresAt: null },
    ]);
    expect(customerUpdates('s1')).toEqual([false]);
  });

  it('a refresh postpones the lapse: one typing off, after the last refresh', async () => {
    await setTyping('s2', true);
    await sleep(TTL / 2);
    await setTyping('s2', true);
    await sleep(TTL / 2 + 100); // past the first one's expiry, before the refresh's
    expect((await typingEntries('s2')).map((t) => t?.typing)).toEqual([true, true]);
    await sleep(TTL * 2);
    expect((await typingEntries('s2')).map((t) => t?.typing)).toEqual([true, true, false]);
    expect(customerUpdates('s2')).toEqual([false]);
  });

  it('switched off before it lapses: no second typing off', async () => {
    await setTyping('s3', true);
    await setTyping('s3', false);
    await sleep(TTL * 3);
    expect((await typingEntries('s3')).map((t) => t?.typing)).toEqual([true, false]);
    expect(customerUpdates('s3')).toEqual([]);
  });
});
