import { BeedeskClient, type HandoffEvent } from '@beedesk/sdk';
import WebSocket from 'ws';
import { e2eEnvironment, e2ePort } from '../harness/cluster';
import { until } from '../harness/metrics';

// Human handoff with two replicas of the handoff subgraph, each behind its own gateway (A: the
// cluster's, B: a second one whose handoff URL is the second replica), sharing the real Redis: both
// assigners run, the per-tenant lock lets one at a time assign, and presence (a console open through
// either replica) counts everywhere.
const e2e = e2eEnvironment('handoff-replicas', 16120);
const HANDOFF_B = e2ePort(16128);
const GATEWAY_B = e2ePort(16129);
const GRACE_MS = 1500;
const clients: BeedeskClient[] = [];

function client(token: string, replica: 'a' | 'b'): BeedeskClient {
  const url = replica === 'a' ? e2e.gatewayUrl : `http://127.0.0.1:${GATEWAY_B}/graphql`;
  const c = new BeedeskClient({ url, token, webSocketImpl: WebSocket });
  clients.push(c);
  return c;
}
const as = async (replica: 'a' | 'b', tenant: string, user: string, role: 'customer' | 'agent' | 'admin') =>
  client(await e2e.token(tenant, user, role), replica);

/** Opens an agent's console subscription (presence) and collects its events; `stop()` closes it. */
function consoleOf(agent: BeedeskClient) {
  const iterator = agent.handoffEvents();
  const events: HandoffEvent[] = [];
  const done = (async () => {
    try {
      for await (const event of iterator) events.push(event);
    } catch {
      // ended by stop()
    }
  })();
  return {
    events,
    stop: async () => {
      await iterator.return?.();
      await done;
    },
  };
}

beforeAll(async () => {
  Object.assign(e2e.env, {
    HANDOFF_PRESENCE_GRACE_MS: String(GRACE_MS),
    HANDOFF_ASSIGN_INTERVAL_MS: '100',
    HANDOFF_PRESENCE_TTL_MS: '3000',
  });
  await e2e.cluster.startAll();
  await e2e.cluster.start('handoff', {}, { instance: 'handoff-b', port: HANDOFF_B });
  await e2e.cluster.start(
    'gateway',
    { SUBGRAPH_URL_HANDOFF: `http://127.0.0.1:${HANDOFF_B}/graphql` },
    { instance: 'gateway-b', port: GATEWAY_B },
  );
}, 120_000);

afterAll(async () => {
  for (const c of clients) await c.close().catch(() => undefined);
  await e2e.cluster.stopAll();
});

describe('human handoff over two handoff replicas (real gateways, Redis and Kafka)', () => {
  it('presence through one replica counts on the other: assignment, away, and back to the line after the grace period', async () => {
    const tenant = 'hr-presence';
    const agentB = await as('b', tenant, 'ada', 'agent');
    const adminA = await as('a', tenant, 'boss', 'admin');
    const feed = consoleOf(agentB);
    const presenceSeenByA = async () => (await adminA.agents()).find((a) => a.id === 'ada')?.presence;
    await until(async () => (await presenceSeenByA()) === 'ONLINE', 10_000, 'online as seen through replica A');

    const customer = await as('a', tenant, 'cy', 'customer');
    const session = await customer.startSession();
    await customer.requestHuman(session.id);
    await until(async () => (await customer.sessionHandoff(session.id))?.handoff.state === 'WITH_HUMAN', 10_000, 'assigned');
    expect((await adminA.conversation(session.id))?.assignee?.id).toBe('ada');

    await feed.stop(); // the console on replica B closes
    await until(async () => (await presenceSeenByA()) === 'AWAY', 5_000, 'away as seen through replica A');
    await until(
      async () => (await customer.sessionHandoff(session.id))?.handoff.state === 'WAITING_FOR_HUMAN',
      GRACE_MS + 5_000,
      'back in the line',
    );
    const audit = (await adminA.conversation(session.id))!.audit;
    expect(audit.at(-1)).toMatchObject({ from: 'WITH_HUMAN', to: 'WAITING_FOR_HUMAN', reason: 'AGENT_OFFLINE', source: 'PRESENCE' });
  });

  it('with both assigners running, every conversation is assigned once, evenly, whichever replica took the request', async () => {
    const tenant = 'hr-once';
    const adminA = await as('a', tenant, 'boss', 'admin');
    await adminA.updateHandoffRules({ defaultAgentCapacity: 5, autoAssign: true });
    const consoles = [consoleOf(await as('a', tenant, 'ann', 'agent')), consoleOf(await as('b', tenant, 'ben', 'agent'))];
    await until(async () => (await adminA.agents()).filter((a) => a.presence === 'ONLINE').length === 2, 10_000, 'both online');

    const customers = await Promise.all(
      Array.from({ length: 8 }, async (_, i) => {
        const c = await as(i % 2 === 0 ? 'a' : 'b', tenant, `c${i}`, 'customer');
        return { c, session: await c.startSession() };
      }),
    );
    // All at once: each request kicks its own replica's assigner.
    await Promise.all(customers.map(({ c, session }) => c.requestHuman(session.id)));
    await until(
      async () =>
        (await Promise.all(customers.map(({ c, session }) => c.sessionHandoff(session.id)))).every(
          (s) => s?.handoff.state === 'WITH_HUMAN',
        ),
      15_000,
      'all assigned',
    );

    const loads = new Map<string, number>();
    for (const { session } of customers) {
      const conversation = (await adminA.conversation(session.id))!;
      const assignments = conversation.audit.filter((entry) => entry.to === 'WITH_HUMAN');
      expect(assignments).toHaveLength(1);
      expect(assignments[0]).toMatchObject({ from: 'WAITING_FOR_HUMAN', reason: 'ASSIGNED', source: 'AUTO_ASSIGNMENT' });
      const agentId = conversation.assignee!.id;
      loads.set(agentId, (loads.get(agentId) ?? 0) + 1);
    }
    // Least-loaded first, one assigner at a time: four each.
    expect(Object.fromEntries(loads)).toEqual({ ann: 4, ben: 4 });
    const agents = await adminA.agents();
    expect(agents.filter((a) => a.id === 'ann' || a.id === 'ben').map((a) => a.activeConversations)).toEqual([4, 4]);

    // Each console saw each assignment once, whichever replica served it.
    await until(
      async () =>
        consoles.every(
          (feed) => feed.events.filter((e) => e.kind === 'STATE_CHANGED' && e.transition?.to === 'WITH_HUMAN').length === customers.length,
        ),
      5_000,
      'consoles caught up',
    );
    for (const feed of consoles) {
      const assigned = feed.events.filter((e) => e.kind === 'STATE_CHANGED' && e.transition?.to === 'WITH_HUMAN');
      expect(new Set(assigned.map((e) => e.conversationId)).size).toBe(customers.length);
    }
    for (const feed of consoles) await feed.stop();
  });
});
