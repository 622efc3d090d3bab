import { newId, tenantKeys, type Logger, type Redis } from '@beedesk/runtime';
import type { HandoffSettings } from './config';
import type { HandoffRulesRecord } from '@beedesk/tenant/data';
import {
  SYSTEM_ACTOR,
  withinWorkingHours,
  type AgentRecord,
  type ConversationRecord,
  type HandoffActions,
  type Unavailability,
} from './data';

/** Compare-and-delete of the per-tenant assigner lock. */
const UNLOCK = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;

/**
 * Why nobody can take a waiting conversation now, or null: outside the working hours, or no agent online
 * and none away for less than the presence grace period (a console reloading is not "offline").
 */
export function unavailability(
  rules: HandoffRulesRecord,
  online: ReadonlySet<string>,
  agents: readonly AgentRecord[],
  now: number,
  graceMs: number,
): Unavailability | null {
  if (!withinWorkingHours(rules, new Date(now))) return 'OUTSIDE_WORKING_HOURS';
  if (online.size > 0) return null;
  const away = agents.some((a) => a.lastSeenAt !== null && now - Date.parse(a.lastSeenAt) < graceMs);
  return away ? null : 'NO_AGENT_ONLINE';
}

export interface Assigner {
  /** Looks at the tenant now (after a handoff request in this process), besides the periodic pass. */
  kick(tenantId: string): void;
  stop(): Promise<void>;
}

/**
 * The assigner: every HANDOFF_ASSIGN_INTERVAL_MS, for each tenant with waiting or assigned
 * conversations (one replica per tenant at a time: a lock), it
 * - ends lapsed presence (a replica died with an agent's console open),
 * - returns the conversations of agents offline longer than HANDOFF_PRESENCE_GRACE_MS to the line
 *   (reason AGENT_OFFLINE; they keep their place),
 * - when nobody can be reached (outside working hours; no agent online or away within the grace period),
 *   applies the tenant's whenUnavailable to the conversations waiting (HandoffActions.recheckWaiting),
 * - assigns the line in order of waiting time, each to the least-loaded online agent with capacity (and
 *   the conversation's team; ties: the agent assigned longest ago), through the same atomic transition
 *   as a claim, so an agent's concurrent claim and the assigner never both win,
 * - and tells waiting customers their new places when the line changed.
 */
export function startAssigner(
  redis: Redis,
  keyPrefix: string,
  actions: HandoffActions,
  settings: HandoffSettings,
  logger: Logger,
  /** Told the length of each tenant's line after each pass (the `beedesk_handoffs_waiting` gauge). */
  onLine: (tenantId: string, waiting: number) => void = () => undefined,
): Assigner {
  const holder = newId();
  const lines = new Map<string, string>();
  /** Per tenant: the position each waiting customer was last told. */
  const told = new Map<string, Map<string, number>>();
  const kicked = new Set<string>();
  let stopped = false;
  let running: Promise<void> = Promise.resolve();
  let timer: NodeJS.Timeout | null = null;

  async function unlock(tenantId: string): Promise<void> {
    await redis.eval(UNLOCK, 1, tenantKeys(keyPrefix, tenantId).handoffAssignLock, holder);
  }

  async function runTenant(tenantId: string, startedAt: number): Promise<void> {
    const keys = tenantKeys(keyPrefix, tenantId);
    const locked = await redis.set(keys.handoffAssignLock, holder, 'PX', Math.max(5_000, settings.HANDOFF_ASSIGN_INTERVAL_MS * 4), 'NX');
    if (locked !== 'OK') return;
    try {
      const store = actions.store;
      const now = Date.now();
      for (const agentId of await store.expirePresence(tenantId, now)) {
        if (!(await store.isOnline(tenantId, agentId, now))) {
          const cursor = await store.agentChanged(tenantId, agentId);
          await actionsPoke(tenantId, cursor);
        }
      }
      const online = await store.onlineAgents(tenantId, now);
      const agents = await store.agents(tenantId);
      let lineChanged = false;
      let assigned = 0;
      let anyHeld = false;
      // Presence lost for longer than the grace period: back to the line.
      for (const agent of agents) {
        if (online.has(agent.id)) continue;
        const held = await store.agentConversations(tenantId, agent.id);
        if (held.length === 0) continue;
        anyHeld = true;
        const lastSeen = agent.lastSeenAt ? Date.parse(agent.lastSeenAt) : 0;
        if (now - lastSeen < settings.HANDOFF_PRESENCE_GRACE_MS) continue;
        for (const sessionId of held) {
          const conversation = await store.conversation(tenantId, sessionId);
          if (!conversation || conversation.state !== 'WITH_HUMAN' || conversation.assigneeId !== agent.id) {
            // Erased or moved meanwhile: the set entry is stale.
            await redis.srem(keys.handoffAgentConversations(agent.id), sessionId);
            continue;
          }
          const result = await actions.transition(tenantId, {
            sessionId,
            userId: conversation.userId,
            from: ['WITH_HUMAN'],
            to: 'WAITING_FOR_HUMAN',
            reason: 'AGENT_OFFLINE',
            source: 'PRESENCE',
            actor: SYSTEM_ACTOR,
            expectedAssignee: agent.id,
          });
          if (result.status === 'OK') {
            lineChanged = true;
            logger.info({ tenantId, sessionId }, 'conversation back in the line: its agent is offline');
          }
        }
      }
      const rules = await actions.rulesOf(tenantId);
      const line = await store.line(tenantId);
      const conversations = await store.conversations(
        tenantId,
        line.map((entry) => entry.sessionId),
      );
      const waiting = conversations.filter((c): c is ConversationRecord => c?.state === 'WAITING_FOR_HUMAN');
      const unavailable = unavailability(rules, online, agents, now, settings.HANDOFF_PRESENCE_GRACE_MS);
      if (unavailable) {
        if ((await actions.recheckWaiting(tenantId, rules, waiting, unavailable)) > 0) lineChanged = true;
      } else {
        // Reachable again: a customer still waiting is told anew when nobody can be reached next time.
        for (const c of waiting) if (c.toldUnavailable) await store.markToldUnavailable(tenantId, c.id, null);
      }
      if (rules.autoAssign && line.length > 0 && online.size > 0) {
        const candidates = agents.filter((a) => online.has(a.id));
        // An agent online for the first time may have no record yet.
        for (const id of online) if (!candidates.some((a) => a.id === id)) candidates.push(await store.ensureAgent(tenantId, id));
        const loads = await store.agentLoad(
          tenantId,
          candidates.map((a) => a.id),
        );
        const capacityOf = (agent: AgentRecord) => agent.capacity ?? rules.defaultAgentCapacity;
        for (let i = 0; i < line.length; i++) {
          const conversation = conversations[i];
          if (!conversation || conversation.state !== 'WAITING_FOR_HUMAN') {
            await store.leaveLine(tenantId, line[i]!.sessionId);
            lineChanged = true;
            continue;
          }
          const eligible = candidates.filter(
            (a) => (loads.get(a.id)?.load ?? 0) < capacityOf(a) && (!conversation.team || a.teams.includes(conversation.team)),
          );
          if (eligible.length === 0) {
            if (!conversation.team) break; // nobody has room: later ones cannot be placed either
            continue;
          }
          eligible.sort((a, b) => {
            const la = loads.get(a.id) ?? { load: 0, lastAssignedAt: 0 };
            const lb = loads.get(b.id) ?? { load: 0, lastAssignedAt: 0 };
            return la.load - lb.load || la.lastAssignedAt - lb.lastAssignedAt || a.id.localeCompare(b.id);
          });
          const agent = eligible[0]!;
          const result = await actions.transition(
            tenantId,
            {
              sessionId: conversation.id,
              userId: conversation.userId,
              from: ['WAITING_FOR_HUMAN'],
              to: 'WITH_HUMAN',
              reason: 'ASSIGNED',
              source: 'AUTO_ASSIGNMENT',
              actor: SYSTEM_ACTOR,
              assignee: { id: agent.id, displayName: agent.displayName },
              capacity: capacityOf(agent),
            },
            undefined,
            null,
            { announceInBackground: true },
          );
          lineChanged = true;
          if (result.status === 'OK') {
            assigned++;
            loads.set(agent.id, { load: (loads.get(agent.id)?.load ?? 0) + 1, lastAssignedAt: Date.now() });
          } else if (result.status === 'CAPACITY') {
            // Someone claimed meanwhile: read the load again next pass.
            loads.set(agent.id, { load: capacityOf(agent), lastAssignedAt: Date.now() });
          }
        }
      }
      const remaining = await store.line(tenantId, 200);
      onLine(tenantId, remaining.length);
      const signature = remaining.map((e) => e.sessionId).join(',');
      if (lineChanged || lines.get(tenantId) !== signature) {
        lines.set(tenantId, signature);
        if (!told.has(tenantId)) told.set(tenantId, new Map());
        await actions.publishPositions(tenantId, told.get(tenantId)!);
      }
      if (assigned > 0) logger.debug({ tenantId, assigned }, 'conversations assigned');
      if (remaining.length === 0 && !anyHeld && online.size === 0) {
        const anyAssigned = [
          ...(
            await store.agentLoad(
              tenantId,
              agents.map((a) => a.id),
            )
          ).values(),
        ].some((l) => l.load > 0);
        if (!anyAssigned) {
          await store.forgetTenant(tenantId, startedAt);
          lines.delete(tenantId);
          told.delete(tenantId);
        }
      }
    } finally {
      await unlock(tenantId);
    }
  }

  async function actionsPoke(tenantId: string, cursor: string): Promise<void> {
    await actions.poke(tenantId, cursor);
  }

  async function pass(): Promise<void> {
    const startedAt = Date.now();
    const tenants = new Set([...(await actions.store.activeTenants()), ...kicked]);
    kicked.clear();
    for (const tenantId of tenants) {
      if (stopped) return;
      try {
        await runTenant(tenantId, startedAt);
      } catch (error) {
        logger.warn({ err: error, tenantId }, 'handoff assigner pass failed; retrying next pass');
      }
    }
  }

  const schedule = (delay: number) => {
    if (stopped) return;
    timer = setTimeout(() => {
      running = pass().finally(() => schedule(settings.HANDOFF_ASSIGN_INTERVAL_MS));
    }, delay);
    timer.unref();
  };
  schedule(settings.HANDOFF_ASSIGN_INTERVAL_MS);

  return {
    kick(tenantId: string) {
      kicked.add(tenantId);
      if (timer && !stopped) {
        clearTimeout(timer);
        timer = null;
        void running.then(() => {
          if (!timer && !stopped) schedule(0);
        });
      }
    },
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await running.catch(() => undefined);
    },
  };
}
