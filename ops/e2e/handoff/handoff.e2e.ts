import { FakeOpenAIServer } from '@beedesk/inference/testing';
import { BeedeskClient, type ConversationEvent, type HandoffEvent } from '@beedesk/sdk';
import WebSocket from 'ws';
import { e2eEnvironment } from '../harness/cluster';
import { codeOf } from '../harness/error-code';
import { until } from '../harness/metrics';

// Issue 13 acceptance: human handoff through the real gateway, real Redis and the shared real Kafka,
// each service its own process. The engine is the OpenAI-compatible one against a recording fake, so
// the test sees exactly what the engine was sent.
const e2e = e2eEnvironment('handoff', 16100);
const fake = new FakeOpenAIServer();
const GRACE_MS = 1500;
const clients: BeedeskClient[] = [];

function client(token: string): BeedeskClient {
  const c = new BeedeskClient({ url: e2e.gatewayUrl, token, webSocketImpl: WebSocket });
  clients.push(c);
  return c;
}
const as = async (tenant: string, user: string, role: 'customer' | 'agent' | 'admin') => client(await e2e.token(tenant, user, role));

/** Collects a subscription's events in the background; `stop()` unsubscribes. */
function collect<T>(iterator: AsyncIterableIterator<T>) {
  const events: T[] = [];
  let error: unknown = null;
  const done = (async () => {
    try {
      for await (const event of iterator) events.push(event);
    } catch (e) {
      error = e;
    }
  })();
  return {
    events,
    get error() {
      return error;
    },
    stop: async () => {
      await iterator.return?.();
      await done;
    },
  };
}

/** Opens an agent's console subscription and waits until the agent counts as online. */
async function online(agent: BeedeskClient, after?: string | null) {
  const feed = collect<HandoffEvent>(agent.handoffEvents(after));
  await until(async () => (await agent.myAgent()).presence === 'ONLINE', 10_000, 'agent online');
  return feed;
}

beforeAll(async () => {
  const llm = await fake.start();
  Object.assign(e2e.env, {
    ENGINE_DEFAULT: 'llm',
    LLM_BASE_URL: llm,
    LLM_MODEL: 'fake-model',
    HANDOFF_PRESENCE_GRACE_MS: String(GRACE_MS),
    HANDOFF_ASSIGN_INTERVAL_MS: '100',
    HANDOFF_PRESENCE_TTL_MS: '3000',
    // Typing set here never lapses mid-test: the catch-up case counts the log entries (lapses: unit tests).
    HANDOFF_TYPING_TTL_MS: '60000',
  });
  await e2e.cluster.startAll();
}, 120_000);

afterAll(async () => {
  for (const c of clients) await c.close().catch(() => undefined);
  await e2e.cluster.stopAll();
  await fake.stop();
});

describe('human handoff (real gateway, Redis and Kafka)', () => {
  it('unsure answers hand off, the online agent is assigned, messages stream both ways, the engine gets nothing until returnToBot, then sees the agent turns', async () => {
    const tenant = 'hf-flow';
    const admin = await as(tenant, 'boss', 'admin');
    await admin.updateTenant('Handoff Bank');
    await admin.upsertArticle({
      id: 'card-arrival',
      title: 'My new card has not arrived',
      body: 'Cards arrive within 5 working days.',
      questions: ['where is my new card', 'my card has not arrived', 'when will my card come'],
    });
    await admin.upsertArticle({
      id: 'pin',
      title: 'Reset your PIN',
      body: 'Reset your PIN in the app under Card settings.',
      questions: ['how do I reset my pin', 'forgot my pin', 'change pin'],
    });
    expect((await admin.handoffRules()).enabled).toBe(false); // opt-in
    const rules = await admin.updateHandoffRules({ enabled: true, unsureConsecutive: 2, unsureThreshold: 0.9, onOutOfScope: false });
    expect(rules).toMatchObject({ enabled: true, unsureConsecutive: 2, whenUnavailable: 'WAIT', keywords: ['human', 'agent', '人工'] });

    const dana = await as(tenant, 'dana', 'agent');
    await dana.updateMyAgentProfile({ displayName: 'Dana' });
    const desk = await online(dana);

    const alice = await as(tenant, 'alice', 'customer');
    const session = await alice.startSession();
    const stream = collect<ConversationEvent>(alice.conversationStream(session.id));
    await new Promise((r) => setTimeout(r, 300));

    // Two unsure answers (nonsense, far from both articles): the second hands the conversation off.
    for (const question of ['zorp blat quux frobnicate', 'glorp wibble snark']) {
      const receipt = await alice.askConversation(session.id, question);
      expect(receipt.conversationState).toBe('BOT');
      expect((await alice.waitForAnswer(receipt.answer.id)).status).toBe('DONE');
    }
    await until(() => stream.events.some((e) => e.kind === 'HANDOFF_STATE' && e.handoff?.state === 'WITH_HUMAN'), 10_000, 'assigned');
    const states = stream.events.filter((e) => e.kind === 'HANDOFF_STATE').map((e) => [e.handoff?.state, e.handoff?.reason]);
    expect(states).toEqual([
      ['WAITING_FOR_HUMAN', 'ENGINE_UNSURE'],
      ['WITH_HUMAN', 'ASSIGNED'],
    ]);
    // The "agent joined" notice is published right after the WITH_HUMAN state event, so it may trail it.
    await until(() => stream.events.some((e) => e.handoff?.notice === 'AGENT_JOINED'), 5_000, 'agent-joined notice');
    const notices = stream.events.filter((e) => e.kind === 'HANDOFF_NOTICE').map((e) => e.handoff?.notice);
    expect(notices).toEqual(expect.arrayContaining(['WAITING_FOR_AGENT', 'AGENT_JOINED']));
    expect(stream.events.find((e) => e.handoff?.notice === 'AGENT_JOINED')?.handoff?.text).toBe('Dana joined the conversation.');
    const view = await alice.sessionHandoff(session.id);
    expect(view?.handoff).toMatchObject({ state: 'WITH_HUMAN', reason: 'ASSIGNED', agentName: 'Dana', agentsAvailable: true });

    // With a person: nothing reaches Kafka or the engine; messages stream both ways.
    const producedBefore = await e2e.producedMessages();
    const engineCallsBefore = fake.requests.length;
    const toAgent = await alice.askConversation(session.id, 'Are you a real person? My card is lost.');
    expect(toAgent.conversationState).toBe('WITH_HUMAN');
    expect(toAgent.answer.status).toBe('WITH_HUMAN');
    await until(
      () => desk.events.some((e) => e.kind === 'CUSTOMER_MESSAGE' && e.message?.text === 'Are you a real person? My card is lost.'),
      5_000,
      'customer message at the console',
    );
    const sent = await dana.sendAgentMessage(session.id, 'Yes, I am Dana. I have blocked the card and ordered a new one.', 'm-1');
    expect(sent.author).toEqual({ kind: 'AGENT', id: 'dana', displayName: 'Dana' });
    // A retry of the same client message id writes nothing twice.
    expect((await dana.sendAgentMessage(session.id, 'Yes, I am Dana. I have blocked the card and ordered a new one.', 'm-1')).turnSeq).toBe(
      sent.turnSeq,
    );
    await until(() => stream.events.some((e) => e.kind === 'AGENT_MESSAGE'), 5_000, 'agent message at the customer');
    const agentMessages = stream.events.filter((e) => e.kind === 'AGENT_MESSAGE');
    expect(agentMessages.map((e) => [e.handoff?.text, e.handoff?.agentName, e.handoff?.turnSeq])).toEqual([
      ['Yes, I am Dana. I have blocked the card and ordered a new one.', 'Dana', sent.turnSeq],
    ]);
    await alice.askConversation(session.id, 'Thank you!');
    await new Promise((r) => setTimeout(r, 1000));
    expect(await e2e.producedMessages()).toBe(producedBefore);
    expect(fake.requests.length).toBe(engineCallsBefore);

    // Back to the bot: the next question goes to the engine with the agent's turn in its history.
    const back = await dana.returnToBot(session.id, 'card replaced');
    expect(back.state).toBe('BOT');
    const next = await alice.askConversation(session.id, 'how do I reset my pin');
    expect(next.conversationState).toBe('BOT');
    expect((await alice.waitForAnswer(next.answer.id)).status).toBe('DONE');
    expect(await e2e.producedMessages()).toBe(producedBefore + 1);
    const sentToEngine = fake.requests.at(-1)!.messages;
    expect(sentToEngine).toEqual(
      expect.arrayContaining([
        { role: 'user', content: 'Are you a real person? My card is lost.' },
        { role: 'assistant', content: 'Yes, I am Dana. I have blocked the card and ordered a new one.' },
        { role: 'user', content: 'Thank you!' },
      ]),
    );
    expect(sentToEngine.at(-1)).toEqual({ role: 'user', content: 'how do I reset my pin' });

    // The transcript and the audit trail.
    const conversation = await dana.conversation(session.id);
    const agentTurns = conversation!.session.turns.filter((t) => t.role === 'AGENT');
    expect(agentTurns.map((t) => [t.text, t.authorName])).toEqual([
      ['Yes, I am Dana. I have blocked the card and ordered a new one.', 'Dana'],
    ]);
    expect(
      conversation!.audit.map((a) => [
        a.seq,
        a.from,
        a.to,
        a.reason,
        a.source,
        a.actor.kind,
        a.actor.id,
        a.assignee?.id ?? null,
        a.comment,
      ]),
    ).toEqual([
      [1, 'BOT', 'WAITING_FOR_HUMAN', 'ENGINE_UNSURE', 'ENGINE', 'ENGINE', null, null, null],
      [2, 'WAITING_FOR_HUMAN', 'WITH_HUMAN', 'ASSIGNED', 'AUTO_ASSIGNMENT', 'SYSTEM', null, 'dana', null],
      [3, 'WITH_HUMAN', 'BOT', 'RETURNED_TO_BOT', 'CONSOLE', 'AGENT', 'dana', null, 'card replaced'],
    ]);
    for (const entry of conversation!.audit) expect(Date.parse(entry.at)).toBeGreaterThan(0);
    // The console saw every transition in order, with its cursor growing by one per log entry.
    const transitions = desk.events.filter((e) => e.kind === 'STATE_CHANGED' && e.conversationId === session.id);
    expect(transitions.map((e) => e.transition?.to)).toEqual(['WAITING_FOR_HUMAN', 'WITH_HUMAN', 'BOT']);
    const cursors = desk.events.map((e) => Number(e.cursor));
    expect(cursors).toEqual([...cursors].sort((a, b) => a - b));
    expect(new Set(cursors).size).toBe(cursors.length);

    // Customers may not run staff operations.
    expect(await codeOf(alice.claimConversation(session.id))).toBe('FORBIDDEN');
    expect(await codeOf(alice.conversation(session.id))).toBe('FORBIDDEN');
    await stream.stop();
    await desk.stop();
  });

  it('assigns five waiting customers to two agents by waiting time and capacity', async () => {
    const tenant = 'hf-fair';
    const admin = await as(tenant, 'boss', 'admin');
    const [ann, ben] = [await as(tenant, 'ann', 'agent'), await as(tenant, 'ben', 'agent')];
    await ann.myAgent();
    await ben.myAgent();
    await admin.updateAgent('ann', { displayName: 'Ann' }, 2);
    await admin.updateAgent('ben', { displayName: 'Ben' }, 2);
    const customers = await Promise.all([1, 2, 3, 4, 5].map((i) => as(tenant, `c${i}`, 'customer')));
    const sessions: string[] = [];
    for (const customer of customers) {
      const session = await customer.startSession();
      sessions.push(session.id);
      // Nobody online: they are told and wait (whenUnavailable WAIT), in order of arrival.
      expect((await customer.requestHuman(session.id, { locale: 'zh-CN' })).state).toBe('WAITING_FOR_HUMAN');
      await new Promise((r) => setTimeout(r, 20));
    }
    const lastStream = collect<ConversationEvent>(customers[4]!.conversationStream(sessions[4]!));
    expect((await customers[4]!.sessionHandoff(sessions[4]!))?.handoff).toMatchObject({ waitingPosition: 4, agentsAvailable: false });
    const inbox = await admin.inbox({ filter: { states: ['WAITING_FOR_HUMAN'] } });
    expect(inbox.edges.map((e) => e.node.id)).toEqual(sessions);
    expect(inbox.edges.map((e) => e.node.waitingPosition)).toEqual([0, 1, 2, 3, 4]);

    const annFeed = await online(ann);
    const benFeed = await online(ben);
    await until(async () => (await admin.inbox({ filter: { states: ['WITH_HUMAN'] } })).totalCount === 4, 10_000, 'four assigned');
    const assigned = await admin.inbox({ filter: { states: ['WITH_HUMAN'] } });
    // The four who waited longest are with people, two each; the last one waits at the head of the line.
    expect(assigned.edges.map((e) => e.node.id).sort()).toEqual(sessions.slice(0, 4).sort());
    const perAgent = assigned.edges.reduce<Record<string, number>>(
      (n, e) => ({ ...n, [e.node.assignee!.id]: (n[e.node.assignee!.id] ?? 0) + 1 }),
      {},
    );
    expect(perAgent).toEqual({ ann: 2, ben: 2 });
    expect((await customers[4]!.sessionHandoff(sessions[4]!))?.handoff).toMatchObject({ state: 'WAITING_FOR_HUMAN', waitingPosition: 0 });
    await until(
      () => lastStream.events.some((e) => e.kind === 'WAITING_POSITION' && e.handoff?.waitingPosition === 0),
      5_000,
      'position 0',
    );
    // A notice in the customer's language.
    expect((await customers[0]!.sessionHandoff(sessions[0]!))?.handoff.state).toBe('WITH_HUMAN');

    // Ann resolves one: the fifth goes to her (the one with room).
    const annHeld = assigned.edges.filter((e) => e.node.assignee!.id === 'ann').map((e) => e.node.id);
    await ann.resolveConversation(annHeld[0]!);
    await until(async () => (await customers[4]!.sessionHandoff(sessions[4]!))?.handoff.state === 'WITH_HUMAN', 10_000, 'fifth assigned');
    expect((await admin.conversation(sessions[4]!))?.assignee?.id).toBe('ann');
    expect(lastStream.events.find((e) => e.handoff?.notice === 'AGENT_JOINED')?.handoff?.text).toBe('客服 Ann 已接入对话。');
    await lastStream.stop();
    await annFeed.stop();
    await benFeed.stop();
  });

  it('gives an offline agent’s conversations back to the line after the grace period, keeping their place', async () => {
    const tenant = 'hf-grace';
    const cleo = await as(tenant, 'cleo', 'agent');
    const feed = await online(cleo);
    const customer = await as(tenant, 'dan', 'customer');
    const session = await customer.startSession();
    await customer.requestHuman(session.id);
    await until(async () => (await customer.sessionHandoff(session.id))?.handoff.state === 'WITH_HUMAN', 10_000, 'assigned');
    await feed.stop(); // the console closes: presence lost
    await until(async () => (await cleo.myAgent()).presence === 'AWAY', 5_000, 'away');
    await new Promise((r) => setTimeout(r, GRACE_MS / 3));
    expect((await customer.sessionHandoff(session.id))?.handoff.state).toBe('WITH_HUMAN'); // within the grace period
    await until(
      async () => (await customer.sessionHandoff(session.id))?.handoff.state === 'WAITING_FOR_HUMAN',
      GRACE_MS + 5_000,
      'requeued',
    );
    const audit = (await cleo.conversation(session.id))!.audit;
    expect(audit.at(-1)).toMatchObject({ from: 'WITH_HUMAN', to: 'WAITING_FOR_HUMAN', reason: 'AGENT_OFFLINE', source: 'PRESENCE' });
    expect((await cleo.myAgent()).presence).toBe('OFFLINE');
    // Back online: assigned again.
    const again = await online(cleo);
    await until(async () => (await customer.sessionHandoff(session.id))?.handoff.state === 'WITH_HUMAN', 10_000, 'reassigned');
    await again.stop();
  });

  it('a console that reconnects catches up from its cursor with nothing lost or repeated', async () => {
    const tenant = 'hf-catchup';
    const admin = await as(tenant, 'boss', 'admin');
    await admin.updateHandoffRules({ autoAssign: false });
    const first = collect<HandoffEvent>(admin.handoffEvents());
    const c1 = await as(tenant, 'e1', 'customer');
    const s1 = await c1.startSession();
    await new Promise((r) => setTimeout(r, 300));
    await c1.requestHuman(s1.id);
    await until(() => first.events.length >= 1, 5_000, 'first event');
    await first.stop();
    await admin.close();
    const cursor = first.events.at(-1)!.cursor;

    // While it is away: transitions, messages, notes and typing of three customers.
    const missed: string[] = [];
    for (const i of [2, 3, 4]) {
      const c = await as(tenant, `e${i}`, 'customer');
      const s = await c.startSession();
      await c.requestHuman(s.id);
      await c.askConversation(s.id, `message ${i}`);
      await c.setTyping(s.id, true);
      missed.push(s.id);
    }
    await admin.addInternalNote(s1.id, 'VIP customer');
    const staff = await as(tenant, 'boss', 'admin');
    const resumed = collect<HandoffEvent>(staff.handoffEvents(cursor));
    // 3 × (STATE_CHANGED, CUSTOMER_MESSAGE, TYPING) + NOTE_ADDED
    await until(() => resumed.events.length >= 10, 10_000, 'caught up');
    const kinds = resumed.events.map((e) => e.kind);
    expect(kinds.slice(0, 10)).toEqual([
      'STATE_CHANGED',
      'CUSTOMER_MESSAGE',
      'TYPING',
      'STATE_CHANGED',
      'CUSTOMER_MESSAGE',
      'TYPING',
      'STATE_CHANGED',
      'CUSTOMER_MESSAGE',
      'TYPING',
      'NOTE_ADDED',
    ]);
    const cursors = resumed.events.map((e) => Number(e.cursor));
    expect(cursors[0]).toBe(Number(cursor) + 1);
    expect(cursors).toEqual(cursors.map((_, i) => Number(cursor) + 1 + i)); // consecutive: no gap, no repeat
    expect(resumed.events.filter((e) => e.kind === 'CUSTOMER_MESSAGE').map((e) => e.message?.text)).toEqual([
      'message 2',
      'message 3',
      'message 4',
    ]);
    expect(resumed.events.find((e) => e.kind === 'NOTE_ADDED')?.note?.text).toBe('VIP customer');
    // Then live ones.
    await staff.addInternalNote(s1.id, 'called back');
    await until(() => resumed.events.some((e) => e.note?.text === 'called back'), 5_000, 'live after catch-up');
    // A cursor from before the kept log (or nonsense) is told so.
    expect(await codeOf(staff.handoffEvents('not-a-cursor').next())).toBe('BAD_USER_INPUT');
    await resumed.stop();
    expect(missed).toHaveLength(3);
  });

  it('of concurrent claims of one conversation exactly one wins', async () => {
    const tenant = 'hf-claims';
    const admin = await as(tenant, 'boss', 'admin');
    await admin.updateHandoffRules({ autoAssign: false });
    const agents = await Promise.all([1, 2, 3, 4, 5, 6].map((i) => as(tenant, `a${i}`, 'agent')));
    const customer = await as(tenant, 'fay', 'customer');
    for (let round = 0; round < 3; round++) {
      const session = await customer.startSession();
      await customer.requestHuman(session.id);
      const results = await Promise.all(agents.map((a) => codeOf(a.claimConversation(session.id))));
      expect(results.filter((r) => r === 'NO_ERROR')).toHaveLength(1);
      expect(results.filter((r) => r === 'CONFLICT')).toHaveLength(agents.length - 1);
      const audit = (await admin.conversation(session.id))!.audit;
      expect(audit.filter((a) => a.to === 'WITH_HUMAN')).toHaveLength(1);
      expect(audit.at(-1)).toMatchObject({ reason: 'CLAIMED', source: 'CONSOLE', actor: { kind: 'AGENT' } });
      await admin.resolveConversation(session.id);
      // The next round needs a fresh conversation: deleteMyData would also do; a new session is enough.
      await customer.deleteMyData();
    }
  });
});
