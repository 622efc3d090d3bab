import { badInput, hasRole, isSafeId, mayAccess, newId, notFound } from '@beedesk/runtime';
import { accessibleSession, conversationOf, requireAdmin, requireStaff, staffSessionId, transitionRefused } from './access';
import type { HandoffContext } from './context';
import {
  customerLocaleOf,
  type AgentRecord,
  type ConversationRecord,
  type ConversationState,
  type HandoffEventRecord,
  type NoteRecord,
} from './data';
import type { Resolvers } from './generated/resolvers';
import { handoffEventStream } from './live';
import type { AgentProfileInput, InboxFilter } from './generated/resolvers';

const MAX_TEXT = 4000;
const PAGE_MAX = 100;

function validText(text: string, field = 'text'): string {
  const trimmed = text.trim();
  if (!trimmed || trimmed.length > MAX_TEXT) throw badInput(`${field}: 1 to ${MAX_TEXT} characters`, field);
  return trimmed;
}

function validTag(value: string, field: string): string {
  const tag = value.trim();
  if (!tag || tag.length > 40) throw badInput(`${field}: 1 to 40 characters`, field);
  return tag;
}

function validProfile(input: AgentProfileInput): { displayName?: string; teams?: string[] } {
  const update: { displayName?: string; teams?: string[] } = {};
  if (input.displayName != null) {
    const name = input.displayName.trim();
    if (!name || name.length > 80) throw badInput('displayName: 1 to 80 characters', 'displayName');
    update.displayName = name;
  }
  if (input.teams != null) {
    if (input.teams.length > 20) throw badInput('teams: at most 20', 'teams');
    update.teams = [...new Set(input.teams.map((t) => validTag(t, 'teams')))];
  }
  return update;
}

/** Inbox cursors: the position after a conversation in (since, id) order, opaque to clients. */
const encodeCursor = (since: number, id: string) => Buffer.from(JSON.stringify([since, id])).toString('base64url');
function decodeCursor(after: string): [number, string] {
  try {
    const value = JSON.parse(Buffer.from(after, 'base64url').toString('utf8')) as unknown;
    if (Array.isArray(value) && typeof value[0] === 'number' && typeof value[1] === 'string') return [value[0], value[1]];
  } catch {
    // fall through
  }
  throw badInput('after: a cursor from an earlier inbox page', 'after');
}

const sinceMs = (c: ConversationRecord) => (c.since ? Date.parse(c.since) : 0);

function matches(c: ConversationRecord, filter: InboxFilter | null | undefined, callerId: string, now: number): boolean {
  const states: readonly ConversationState[] = filter?.states ?? ['WAITING_FOR_HUMAN', 'WITH_HUMAN'];
  if (!states.includes(c.state)) return false;
  if (filter?.assigneeId != null && c.assigneeId !== filter.assigneeId) return false;
  if (filter?.mine && c.assigneeId !== callerId) return false;
  if (filter?.team != null && c.team !== filter.team) return false;
  if (filter?.minWaitingSeconds != null) {
    if (c.state !== 'WAITING_FOR_HUMAN' || !c.waitingSince) return false;
    if (now - Date.parse(c.waitingSince) < filter.minWaitingSeconds * 1000) return false;
  }
  return true;
}

/**
 * A staff member's own agent record (the caller acting on conversations). Acting counts as being seen:
 * an agent working through the API without a console keeps their conversations for the grace period.
 */
function callerAgent(context: HandoffContext): Promise<AgentRecord> {
  return context.store.seenAgent(context.caller.tenantId, context.caller.userId);
}

/** The conversation of a session the caller may act on as staff. */
async function staffConversation(context: HandoffContext, sessionId: string, what: string): Promise<ConversationRecord> {
  requireStaff(context, what);
  return conversationOf(context, await accessibleSession(context, sessionId));
}

async function knownAgent(context: HandoffContext, agentId: string): Promise<AgentRecord> {
  const agent = isSafeId(agentId) ? await context.store.agent(context.caller.tenantId, agentId) : null;
  if (!agent) throw notFound('Agent', agentId);
  return agent;
}

async function reread(context: HandoffContext, sessionId: string): Promise<ConversationRecord> {
  return (await context.store.conversation(context.caller.tenantId, sessionId))!;
}

export const resolvers: Resolvers = {
  Query: {
    inbox: async (_root, { filter, first, after }, context) => {
      requireStaff(context, 'read the inbox');
      const size = first ?? 20;
      if (!Number.isInteger(size) || size < 1 || size > PAGE_MAX) throw badInput(`first: 1 to ${PAGE_MAX}`, 'first');
      if (filter?.minWaitingSeconds != null && filter.minWaitingSeconds < 0)
        throw badInput('minWaitingSeconds: not negative', 'minWaitingSeconds');
      const start = after ? decodeCursor(after) : null;
      const { tenantId, userId } = context.caller;
      // The log position first: whatever changes after it reaches a subscriber of handoffEvents(after: eventCursor).
      const eventCursor = await context.store.logCursor(tenantId);
      const ids = await context.store.inboxIds(tenantId);
      const now = Date.now();
      const all = (await context.store.conversations(tenantId, ids))
        .filter((c): c is ConversationRecord => c !== null && matches(c, filter, userId, now))
        .sort((a, b) => sinceMs(a) - sinceMs(b) || a.id.localeCompare(b.id));
      const from = start ? all.findIndex((c) => sinceMs(c) > start[0] || (sinceMs(c) === start[0] && c.id > start[1])) : 0;
      const page = from < 0 ? [] : all.slice(from, from + size);
      const edges = page.map((node) => ({ cursor: encodeCursor(sinceMs(node), node.id), node }));
      return {
        edges,
        pageInfo: { hasNextPage: from >= 0 && from + size < all.length, endCursor: edges.at(-1)?.cursor ?? null },
        totalCount: all.length,
        eventCursor,
      };
    },
    conversation: async (_root, { sessionId }, context) => {
      requireStaff(context, 'read conversations');
      try {
        return conversationOf(context, await accessibleSession(context, sessionId));
      } catch (error) {
        if ((error as { extensions?: { code?: string } }).extensions?.code === 'NOT_FOUND') return null;
        throw error;
      }
    },
    agents: async (_root, _args, context) => {
      requireStaff(context, 'list the agents');
      return context.store.agents(context.caller.tenantId);
    },
    myAgent: async (_root, _args, context) => {
      requireStaff(context, 'have an agent record');
      return callerAgent(context);
    },
  },
  Mutation: {
    requestHuman: async (_root, { sessionId, team, locale }, context) => {
      const session = await accessibleSession(context, sessionId);
      const tag = team != null ? validTag(team, 'team') : null;
      if (locale != null && (locale.length > 35 || !/^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$/.test(locale))) {
        throw badInput('locale: a BCP-47 tag such as en or zh-CN', 'locale');
      }
      const actor = await context.actor();
      await context.actions.requestHandoff({
        tenantId: context.caller.tenantId,
        sessionId: session.id,
        userId: session.userId,
        reason: 'CUSTOMER_REQUESTED',
        source: 'CUSTOMER_REQUEST',
        actor: session.userId === context.caller.userId ? { kind: 'CUSTOMER', id: context.caller.userId, displayName: null } : actor,
        team: tag,
        locale: customerLocaleOf(locale),
      });
      context.assigner.kick(context.caller.tenantId);
      return conversationOf(context, session);
    },
    setTyping: async (_root, { sessionId, typing }, context) => {
      const session = await accessibleSession(context, sessionId);
      const { tenantId } = context.caller;
      const asCustomer = session.userId === context.caller.userId && !hasRole(context.caller, 'agent', 'admin');
      const actor = await context.actor();
      const ttl = context.settings.HANDOFF_TYPING_TTL_MS;
      const expiresAt = typing ? new Date(Date.now() + ttl).toISOString() : null;
      const who = asCustomer ? 'customer' : 'agent';
      const { cursor, token } = await context.store.setTyping(tenantId, session.id, who, { actor, typing, expiresAt }, ttl);
      await context.actions.poke(tenantId, cursor);
      if (token) context.actions.watchTypingLapse(tenantId, session.id, who, token, actor, ttl);
      if (!asCustomer) {
        const conversation = await conversationOf(context, session);
        await context.actions.tellCustomer(tenantId, session.id, 'AGENT_TYPING', {
          state: conversation.state,
          agentName: actor.displayName,
          typing,
          typingExpiresAt: expiresAt,
        });
      }
      return true;
    },
    claimConversation: async (_root, { sessionId }, context) => {
      const conversation = await staffConversation(context, sessionId, 'claim conversations');
      const agent = await callerAgent(context);
      const rules = await context.actions.rulesOf(context.caller.tenantId);
      const from = conversation.state === 'BOT' ? 'BOT' : 'WAITING_FOR_HUMAN';
      const result = await context.actions.transition(context.caller.tenantId, {
        sessionId: conversation.id,
        userId: conversation.userId,
        from: [from],
        to: 'WITH_HUMAN',
        reason: from === 'BOT' ? 'AGENT_PULLED' : 'CLAIMED',
        source: 'CONSOLE',
        actor: await context.actor(),
        assignee: { id: agent.id, displayName: agent.displayName },
        capacity: hasRole(context.caller, 'admin') ? null : (agent.capacity ?? rules.defaultAgentCapacity),
      });
      if (result.status !== 'OK') throw transitionRefused(result.status, result.from);
      context.log.info({ sessionId: conversation.id }, 'conversation claimed');
      return reread(context, conversation.id);
    },
    assignConversation: async (_root, { sessionId, agentId }, context) => {
      requireAdmin(context, 'assign conversations');
      const conversation = await staffConversation(context, sessionId, 'assign conversations');
      const agent = await knownAgent(context, agentId);
      const from = conversation.state === 'BOT' ? 'BOT' : 'WAITING_FOR_HUMAN';
      const result = await context.actions.transition(context.caller.tenantId, {
        sessionId: conversation.id,
        userId: conversation.userId,
        from: [from],
        to: 'WITH_HUMAN',
        reason: from === 'BOT' ? 'AGENT_PULLED' : 'ASSIGNED',
        source: 'CONSOLE',
        actor: await context.actor(),
        assignee: { id: agent.id, displayName: agent.displayName },
      });
      if (result.status !== 'OK') throw transitionRefused(result.status, result.from);
      return reread(context, conversation.id);
    },
    reassignConversation: async (_root, { sessionId, agentId, comment }, context) => {
      const conversation = await staffConversation(context, sessionId, 'reassign conversations');
      const agent = await knownAgent(context, agentId);
      const result = await context.actions.transition(context.caller.tenantId, {
        sessionId: conversation.id,
        userId: conversation.userId,
        from: ['WITH_HUMAN'],
        to: 'WITH_HUMAN',
        reason: 'REASSIGNED',
        source: 'CONSOLE',
        actor: await context.actor(),
        expectedAssignee: hasRole(context.caller, 'admin') ? null : context.caller.userId,
        assignee: { id: agent.id, displayName: agent.displayName },
        comment: comment != null ? validText(comment, 'comment') : null,
      });
      if (result.status !== 'OK') throw transitionRefused(result.status, result.from);
      return reread(context, conversation.id);
    },
    releaseConversation: async (_root, { sessionId }, context) => {
      const conversation = await staffConversation(context, sessionId, 'release conversations');
      const result = await context.actions.transition(context.caller.tenantId, {
        sessionId: conversation.id,
        userId: conversation.userId,
        from: ['WITH_HUMAN'],
        to: 'WAITING_FOR_HUMAN',
        reason: 'RELEASED',
        source: 'CONSOLE',
        actor: await context.actor(),
        expectedAssignee: hasRole(context.caller, 'admin') ? null : context.caller.userId,
      });
      if (result.status !== 'OK') throw transitionRefused(result.status, result.from);
      context.assigner.kick(context.caller.tenantId);
      return reread(context, conversation.id);
    },
    // On the agent → customer latency path: three round trips to Redis (the agent record, the message
    // script, both announcements at once). The script checks everything a read first would (the session
    // exists, the conversation is WITH_HUMAN, the caller is its assignee), and staff may act on any session
    // of their tenant, so the session and the conversation are not read beforehand.
    sendAgentMessage: async (_root, { sessionId, text, clientMessageId }, context) => {
      requireStaff(context, 'write to customers');
      const id = staffSessionId(context, sessionId);
      const message = validText(text);
      if (clientMessageId != null && !isSafeId(clientMessageId)) {
        throw badInput('clientMessageId: letters, digits, _ and -, at most 64', 'clientMessageId');
      }
      const agent = await callerAgent(context);
      const { tenantId } = context.caller;
      const sender = {
        kind: hasRole(context.caller, 'admin') ? ('ADMIN' as const) : ('AGENT' as const),
        id: agent.id,
        displayName: agent.displayName,
      };
      const result = await context.store.agentMessage(tenantId, id, sender, message, {
        admin: hasRole(context.caller, 'admin'),
        clientMessageId: clientMessageId ?? null,
      });
      if (!('message' in result)) {
        if (result.status === 'NOT_FOUND') throw notFound('Session', sessionId);
        throw transitionRefused(result.status, result.state);
      }
      if (result.status === 'OK') {
        await Promise.all([
          context.actions.tellCustomer(tenantId, id, 'AGENT_MESSAGE', {
            state: 'WITH_HUMAN',
            agentName: agent.displayName,
            text: message,
            turnSeq: result.message.turnSeq,
          }),
          result.cursor ? context.actions.poke(tenantId, result.cursor) : undefined,
        ]);
      }
      return result.message;
    },
    resolveConversation: async (_root, { sessionId, comment }, context) => {
      const conversation = await staffConversation(context, sessionId, 'resolve conversations');
      const result = await context.actions.transition(context.caller.tenantId, {
        sessionId: conversation.id,
        userId: conversation.userId,
        from: ['WITH_HUMAN', 'WAITING_FOR_HUMAN'],
        to: 'RESOLVED',
        reason: 'RESOLVED',
        source: 'CONSOLE',
        actor: await context.actor(),
        expectedAssignee: hasRole(context.caller, 'admin') || conversation.state !== 'WITH_HUMAN' ? null : context.caller.userId,
        comment: comment != null ? validText(comment, 'comment') : null,
      });
      if (result.status !== 'OK') throw transitionRefused(result.status, result.from);
      return reread(context, conversation.id);
    },
    returnToBot: async (_root, { sessionId, comment }, context) => {
      const conversation = await staffConversation(context, sessionId, 'return conversations to the bot');
      const result = await context.actions.transition(context.caller.tenantId, {
        sessionId: conversation.id,
        userId: conversation.userId,
        from: ['WITH_HUMAN', 'WAITING_FOR_HUMAN'],
        to: 'BOT',
        reason: 'RETURNED_TO_BOT',
        source: 'CONSOLE',
        actor: await context.actor(),
        expectedAssignee: hasRole(context.caller, 'admin') || conversation.state !== 'WITH_HUMAN' ? null : context.caller.userId,
        comment: comment != null ? validText(comment, 'comment') : null,
      });
      if (result.status !== 'OK') throw transitionRefused(result.status, result.from);
      return reread(context, conversation.id);
    },
    addInternalNote: async (_root, { sessionId, text }, context) => {
      const conversation = await staffConversation(context, sessionId, 'add notes');
      const note: NoteRecord = { id: newId(), text: validText(text), at: new Date().toISOString(), author: await context.actor() };
      const cursor = await context.store.addNote(context.caller.tenantId, conversation.id, note);
      await context.actions.poke(context.caller.tenantId, cursor);
      return note;
    },
    updateMyAgentProfile: async (_root, { input }, context) => {
      requireStaff(context, 'have an agent profile');
      const agent = await context.store.updateAgent(context.caller.tenantId, context.caller.userId, validProfile(input));
      await context.actions.poke(context.caller.tenantId, await context.store.agentChanged(context.caller.tenantId, agent.id));
      return agent;
    },
    updateAgent: async (_root, { agentId, input, capacity }, context) => {
      requireAdmin(context, 'change agents');
      if (!isSafeId(agentId)) throw badInput('agentId: letters, digits, _ and -, at most 64', 'agentId');
      if (capacity != null && (!Number.isInteger(capacity) || capacity < 0 || capacity > 100)) {
        throw badInput('capacity: an integer from 0 to 100, or null', 'capacity');
      }
      const agent = await context.store.updateAgent(context.caller.tenantId, agentId, {
        ...(input ? validProfile(input) : {}),
        ...(capacity !== undefined ? { capacity } : {}),
      });
      await context.actions.poke(context.caller.tenantId, await context.store.agentChanged(context.caller.tenantId, agent.id));
      context.assigner.kick(context.caller.tenantId);
      return agent;
    },
  },
  Subscription: {
    handoffEvents: {
      subscribe: (_root, { after }, context): Promise<AsyncIterableIterator<HandoffEventRecord>> => handoffEventStream(after, context),
      resolve: (event: HandoffEventRecord) => event,
    },
  },
  Session: {
    // Only a session of the caller's tenant that the caller may see; anything else is null.
    __resolveReference: async (ref, context) => {
      const session = isSafeId(ref.id) ? await context.sessions.get(context.caller.tenantId, ref.id) : null;
      return session && mayAccess(context.caller, session) ? { id: session.id } : null;
    },
    handoff: async (ref, _args, context) => {
      const session = await context.sessions.get(context.caller.tenantId, ref.id);
      if (!session) throw notFound('Session', ref.id);
      return conversationOf(context, session);
    },
  },
  SessionHandoff: {
    state: (c) => c.state,
    reason: (c) => c.reason,
    since: (c) => c.since,
    waitingPosition: (c, _args, context) =>
      c.state === 'WAITING_FOR_HUMAN' ? context.store.linePosition(context.caller.tenantId, c.id) : null,
    agentName: (c) => (c.state === 'WITH_HUMAN' ? c.assigneeName : null),
    agentTyping: (c, _args, context) => (c.state === 'WITH_HUMAN' ? context.store.typing(context.caller.tenantId, c.id, 'agent') : false),
    agentsAvailable: async (_c, _args, context) => {
      const { online, withinHours } = await context.actions.availability(context.caller.tenantId);
      return online && withinHours;
    },
  },
  Conversation: {
    session: (c) => ({ id: c.id }),
    assignee: (c, _args, context) => {
      const { tenantId } = context.caller;
      const assigneeId = c.assigneeId;
      if (!assigneeId) return null;
      const read = () => context.store.agent(tenantId, assigneeId);
      return c.asOfCursor ? context.shared(`${tenantId}|agent|${assigneeId}|${c.asOfCursor}`, read) : read();
    },
    waitingPosition: (c, _args, context) => {
      if (c.state !== 'WAITING_FOR_HUMAN') return null;
      const { tenantId } = context.caller;
      const read = () => context.store.linePosition(tenantId, c.id);
      return c.asOfCursor ? context.shared(`${tenantId}|position|${c.id}|${c.asOfCursor}`, read) : read();
    },
    waitingSince: (c) => (c.state === 'WAITING_FOR_HUMAN' ? c.waitingSince : null),
    customerTyping: (c, _args, context) => context.store.typing(context.caller.tenantId, c.id, 'customer'),
    audit: (c, _args, context) => context.store.audit(context.caller.tenantId, c.id),
    notes: (c, _args, context) => context.store.notes(context.caller.tenantId, c.id),
  },
  HandoffAuditEntry: {
    assignee: async (entry, _args, context) => {
      if (!entry.assigneeId) return null;
      return (
        (await context.store.agent(context.caller.tenantId, entry.assigneeId)) ?? {
          id: entry.assigneeId,
          displayName: entry.assigneeName ?? '',
          capacity: null,
          teams: [],
          lastSeenAt: null,
        }
      );
    },
  },
  Agent: {
    presence: async (agent, _args, context) => {
      if ((await context.onlineAgents()).has(agent.id)) return 'ONLINE';
      const lastSeen = agent.lastSeenAt ? Date.parse(agent.lastSeenAt) : 0;
      return Date.now() - lastSeen < context.settings.HANDOFF_PRESENCE_GRACE_MS && lastSeen > 0 ? 'AWAY' : 'OFFLINE';
    },
    capacity: async (agent, _args, context) =>
      agent.capacity ?? (await context.actions.rulesOf(context.caller.tenantId)).defaultAgentCapacity,
    activeConversations: async (agent, _args, context) =>
      (await context.store.agentLoad(context.caller.tenantId, [agent.id])).get(agent.id)?.load ?? 0,
  },
  HandoffEvent: {
    // The conversation as of this log entry, read once for every console this process delivers it to.
    conversation: async (event, _args, context) => {
      const sessionId = event.conversationId;
      if (!sessionId) return null;
      const { tenantId } = context.caller;
      return context.shared(`${tenantId}|conversation|${sessionId}|${event.cursor}`, async () => {
        const session = await context.sessions.get(tenantId, sessionId);
        return session ? { ...(await conversationOf(context, session)), asOfCursor: event.cursor } : null;
      });
    },
    agent: (event, _args, context) => {
      const { tenantId } = context.caller;
      return event.agentId
        ? context.shared(`${tenantId}|agent|${event.agentId}|${event.cursor}`, () => context.store.agent(tenantId, event.agentId!))
        : null;
    },
  },
};
