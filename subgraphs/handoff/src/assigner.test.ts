import { connectRedis, createLogger, keysMatching, type AnswerEventMessage, type EventPublisher, type Redis } from '@beedesk/runtime';
import { DEFAULT_HANDOFF_RULES, HandoffRulesRepository, type HandoffRulesRecord } from '@beedesk/tenant/data';
import { startAssigner, type Assigner } from './assigner';
import { DEFAULT_HANDOFF_SETTINGS } from './config';
import { HandoffActions, SYSTEM_ACTOR } from './data';

// The assigner against the real Redis (REDIS_URL or 127.0.0.1:6379), under a key prefix of its own that
// it removes after: conversations already waiting when nobody can be reached any more.
describe('assigner: waiting conversations when nobody can be reached any more (real Redis)', () => {
  const prefix = `unit-assigner-${process.pid}-${Date.now()}`;
  const ALL_DAY = [{ days: [1, 2, 3, 4, 5, 6, 7], from: '00:00', to: '24:00' }];
  const NEVER = [{ days: [1, 2, 3, 4, 5, 6, 7], from: '00:00', to: '00:00' }];
  let redis: Redis;
  let assigner: Assigner | null = null;
  const published: AnswerEventMessage[] = [];
  const events: EventPublisher = {
    publishAnswerEvent: async (_tenantId, event) => {
      published.push(event);
    },
    publishActivity: async () => undefined,
    publishHandoff: async () => undefined,
  };

  beforeAll(async () => {
    redis = await connectRedis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
  });
  beforeEach(() => {
    published.length = 0;
  });
  afterEach(async () => {
    await assigner?.stop();
    assigner = null;
  });
  afterAll(async () => {
    const found = await keysMatching(redis, `${prefix}:*`);
    if (found.length) await redis.del(...found);
    redis.disconnect();
  });

  /** A tenant with an online agent, its rules, and one conversation waiting (assignment off: it stays waiting). */
  async function waitingWithAgentOnline(tenantId: string, rules: Partial<HandoffRulesRecord>) {
    const rulesRepo = new HandoffRulesRepository(redis, prefix);
    await rulesRepo.set(tenantId, { ...DEFAULT_HANDOFF_RULES, autoAssign: false, ...rules });
    const actions = HandoffActions.create(redis, prefix, events, createLogger('test', 'silent'));
    await actions.store.connect(tenantId, 'agent-1', 'console-1', 60_000);
    const outcome = await actions.requestHandoff({
      tenantId,
      sessionId: 'session-1',
      userId: 'customer-1',
      reason: 'CUSTOMER_REQUESTED',
      source: 'CUSTOMER_REQUEST',
      actor: SYSTEM_ACTOR,
      locale: 'en',
    });
    expect(outcome).toEqual({ state: 'WAITING_FOR_HUMAN', unavailable: null, changed: true });
    assigner = startAssigner(
      redis,
      prefix,
      actions,
      { ...DEFAULT_HANDOFF_SETTINGS, HANDOFF_ASSIGN_INTERVAL_MS: 20, HANDOFF_PRESENCE_GRACE_MS: 0 },
      createLogger('test', 'silent'),
    );
    return { actions, rulesRepo };
  }

  const notices = (sessionId: string) =>
    published.filter((e) => e.sessionId === sessionId && e.kind === 'HANDOFF_NOTICE').map((e) => e.handoff?.notice);
  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
  async function until(check: () => Promise<boolean>, ms = 5000): Promise<void> {
    const deadline = Date.now() + ms;
    while (!(await check())) {
      if (Date.now() > deadline) throw new Error('timed out');
      await sleep(20);
    }
  }

  it('RETURN_TO_BOT: the last agent going offline hands the waiting conversation back to the bot, and the customer is told', async () => {
    const tenantId = 'ta';
    const { actions } = await waitingWithAgentOnline(tenantId, { whenUnavailable: 'RETURN_TO_BOT' });
    await sleep(200); // several passes with the agent online: it keeps waiting
    expect((await actions.store.conversation(tenantId, 'session-1'))?.state).toBe('WAITING_FOR_HUMAN');

    await actions.store.disconnect(tenantId, 'agent-1', 'console-1', Date.now() - 1000);
    await until(async () => (await actions.store.conversation(tenantId, 'session-1'))?.state === 'BOT');
    const audit = await actions.store.audit(tenantId, 'session-1');
    expect(audit.at(-1)).toMatchObject({ from: 'WAITING_FOR_HUMAN', to: 'BOT', reason: 'NO_AGENT_ONLINE', source: 'RULES' });
    expect(await actions.store.linePosition(tenantId, 'session-1')).toBeNull();
    await until(async () => notices('session-1').includes('NO_AGENT_ONLINE'));
    const told = published.find((e) => e.sessionId === 'session-1' && e.handoff?.notice === 'NO_AGENT_ONLINE');
    expect(told?.handoff).toMatchObject({ state: 'BOT', text: 'No agent is online right now, so the assistant will keep helping you.' });
  });

  it('WAIT: working hours ending tells the waiting customer once that they stay in line', async () => {
    const tenantId = 'tb';
    const { actions, rulesRepo } = await waitingWithAgentOnline(tenantId, { whenUnavailable: 'WAIT', workingHours: ALL_DAY });
    await sleep(200);
    expect(notices('session-1')).not.toContain('OUTSIDE_WORKING_HOURS');

    await rulesRepo.set(tenantId, { ...DEFAULT_HANDOFF_RULES, autoAssign: false, whenUnavailable: 'WAIT', workingHours: NEVER });
    const ofB = () => published.filter((e) => e.handoff?.notice === 'OUTSIDE_WORKING_HOURS' && e.handoff.state === 'WAITING_FOR_HUMAN');
    await until(async () => ofB().length > 0);
    await sleep(300); // many passes later: told once
    expect(ofB()).toHaveLength(1);
    expect(ofB()[0]!.handoff?.text).toBe('We are outside our working hours. You stay in line, and a person will reply when we are back.');
    expect((await actions.store.conversation(tenantId, 'session-1'))?.state).toBe('WAITING_FOR_HUMAN');
    expect(await actions.store.linePosition(tenantId, 'session-1')).toBe(0);
  });
});
