import type { Role } from '@beedesk/runtime';
import type { World } from './world';

/**
 * What a caller gets: a refusal with a documented code (and no data for the field), or a result
 * about its own tenant that `check` verifies. Either way, the leak check runs on the whole body.
 */
export type RefusalCode = 'NOT_FOUND' | 'FORBIDDEN' | 'BAD_USER_INPUT';
export type Outcome =
  { kind: 'refused'; code: RefusalCode } | { kind: 'own'; check: (data: Record<string, unknown>, world: World, caller: Caller) => void };

/** B's users by role (`apiKey`: B's admin API key instead of a token), or mallory, another customer of A. */
export type Caller = { tenant: 'b'; role: Role; apiKey?: true } | { tenant: 'a'; role: 'otherCustomer' };

export interface OperationCase {
  /** `Query.session`: the root field this case covers. */
  field: string;
  /** Tells apart two cases of one root field (e.g. a field of its result that has its own rule). */
  variant?: string;
  document: string;
  /** Ids of A (its sessions, answers, articles) wherever the operation takes one. */
  variables: (world: World) => Record<string, unknown>;
  /** As a user of tenant B, by role. */
  asTenantB: Record<Role, Outcome>;
  /** As mallory, another customer of A, on alice's data. */
  asOtherCustomerOfA: Outcome;
}

const refused = (code: RefusalCode): Outcome => ({ kind: 'refused', code });
const own = (check: (data: Record<string, unknown>, world: World, caller: Caller) => void): Outcome => ({ kind: 'own', check });
const allRoles = (outcome: Outcome): Record<Role, Outcome> => ({ customer: outcome, agent: outcome, admin: outcome });
const staffOnly = (staff: Outcome): Record<Role, Outcome> => ({ customer: refused('FORBIDDEN'), agent: staff, admin: staff });
const adminOnly = (admin: Outcome): Record<Role, Outcome> => ({ customer: refused('FORBIDDEN'), agent: refused('FORBIDDEN'), admin });

/** A session of A named by B's callers (any role) or by mallory: every handoff operation on it is FORBIDDEN. */
const forbiddenEverywhere = { asTenantB: allRoles(refused('FORBIDDEN')), asOtherCustomerOfA: refused('FORBIDDEN') };
const CONVERSATION_FIELDS =
  'id state reason since team waitingSince waitingPosition customerTyping assignee { id displayName } audit { seq reason actor { id displayName } comment } notes { text author { id } } session { id userId turns { text authorName } }';
const AGENT_FIELDS = 'id displayName presence capacity activeConversations teams lastSeenAt';

/** B's staff tokens have the user ids `agent` and `admin`; an API key caller has its own. Never A's agent. */
function expectOwnAgent(id: string, caller: Caller): void {
  if (id === 'agent-a') throw new Error('an agent record of A came back');
  if (caller.tenant === 'b' && !caller.apiKey) expectEqual(id, caller.role, 'agent id');
}

const tenantOf = (world: World, caller: Caller): string => (caller.tenant === 'a' ? world.a.id : world.b.id);
function expectEqual(actual: unknown, expected: unknown, what: string): void {
  if (JSON.stringify(actual) !== JSON.stringify(expected))
    throw new Error(`${what}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
}
const field = <T>(data: Record<string, unknown>, name: string): T => data[name] as T;

const ANSWER_FIELDS =
  'id sessionId question text status confidence needsHuman feedback { helpful comment } streamed { text seq } sources { id title body questions } session { id userId turns { text answerId } }';

const WIDGET_FIELDS = 'key allowedOrigins themeColor greeting position identityVerification';
/** Widget settings an admin of B gets are B's: the key names B. */
const ownWidget = (name: string) =>
  own((d, w) => {
    const { key } = field<{ key: string }>(d, name);
    if (!key.startsWith(`bdw_${w.b.id}_`)) throw new Error(`${name}: the widget key does not name B: ${key.slice(0, 24)}…`);
  });

/**
 * One case per root field of the API. A new Query, Mutation or Subscription field makes the
 * coverage test fail until it has a row here (and every mutation is followed by a check that
 * A's tenant, articles and alice's history are unchanged).
 */
export const OPERATION_CASES: OperationCase[] = [
  {
    field: 'Query.tenant',
    document: '{ tenant { id name answerConfidenceThreshold articles { id title body questions locale } } }',
    variables: () => ({}),
    // Always the caller's own tenant: A's name and articles are visible to A's customers, never to B.
    asTenantB: allRoles(own((d, w, c) => expectEqual(field<{ id: string }>(d, 'tenant').id, tenantOf(w, c), 'tenant.id'))),
    asOtherCustomerOfA: own((d, w, c) => expectEqual(field<{ id: string }>(d, 'tenant').id, tenantOf(w, c), 'tenant.id')),
  },
  {
    field: 'Query.tenant',
    variant: 'apiKeys',
    document: '{ tenant { id apiKeys { id name prefix roles persistedOnly createdAt } } }',
    variables: () => ({}),
    // Schema: "Admin: the tenant's partner API keys …; others get FORBIDDEN" (Tenant! then nulls data).
    asTenantB: adminOnly(own((d, w) => expectEqual(field<{ id: string }>(d, 'tenant').id, w.b.id, 'tenant.id'))),
    asOtherCustomerOfA: refused('FORBIDDEN'),
  },
  {
    field: 'Query.tenant',
    variant: 'widget',
    document: `{ tenant { id widget { ${WIDGET_FIELDS} } } }`,
    variables: () => ({}),
    // Schema: "Admin: the web chat widget's settings …; others get FORBIDDEN".
    asTenantB: adminOnly(
      own((d, w) => {
        const tenant = field<{ id: string; widget: { key: string } }>(d, 'tenant');
        expectEqual(tenant.id, w.b.id, 'tenant.id');
        if (!tenant.widget.key.startsWith(`bdw_${w.b.id}_`)) throw new Error('tenant.widget.key does not name B');
      }),
    ),
    asOtherCustomerOfA: refused('FORBIDDEN'),
  },
  {
    field: 'Query.ratedAnswers',
    document: '{ ratedAnswers(last: 20) { id sessionId question text feedback { helpful comment } sources { id title } } }',
    variables: () => ({}),
    // Staff only, and only the caller's tenant's answers (A's rated answer never appears for B).
    asTenantB: {
      customer: refused('FORBIDDEN'),
      agent: own((d, w) =>
        expectEqual(
          field<{ id: string }[]>(d, 'ratedAnswers').filter((a) => a.id === w.a.aliceAnswerId),
          [],
          'ratedAnswers',
        ),
      ),
      admin: own((d, w) =>
        expectEqual(
          field<{ id: string }[]>(d, 'ratedAnswers').filter((a) => a.id === w.a.aliceAnswerId),
          [],
          'ratedAnswers',
        ),
      ),
    },
    asOtherCustomerOfA: refused('FORBIDDEN'),
  },
  {
    field: 'Query.session',
    document: 'query($id: ID!) { session(id: $id) { id userId status startedAt lastActiveAt turns { seq role text answerId } } }',
    variables: (w) => ({ id: w.a.aliceSessionId }),
    // Schema: "A session of the caller's tenant": another tenant's id is unknown here.
    asTenantB: allRoles(refused('NOT_FOUND')),
    asOtherCustomerOfA: refused('FORBIDDEN'),
  },
  {
    field: 'Query.answer',
    document: `query($id: ID!) { answer(id: $id) { ${ANSWER_FIELDS} } }`,
    variables: (w) => ({ id: w.a.aliceAnswerId }),
    asTenantB: allRoles(refused('NOT_FOUND')),
    asOtherCustomerOfA: refused('FORBIDDEN'),
  },
  {
    field: 'Query.inferenceStatus',
    document: '{ inferenceStatus { engine queueLag breaker } }',
    variables: () => ({}),
    asTenantB: adminOnly(own((d) => expectEqual(typeof field<{ queueLag: unknown }>(d, 'inferenceStatus').queueLag, 'number', 'queueLag'))),
    asOtherCustomerOfA: refused('FORBIDDEN'),
  },
  {
    field: 'Query.searchArticles',
    document: '{ searchArticles(first: 200) { id title body questions locale } }',
    variables: () => ({}),
    // The staff console's knowledge-base list: the caller's own tenant's articles (the leak check reads them all).
    asTenantB: staffOnly(own((d) => expectEqual(Array.isArray(d.searchArticles), true, 'searchArticles is a list'))),
    asOtherCustomerOfA: refused('FORBIDDEN'),
  },
  {
    field: 'Query.tryQuestion',
    document:
      'query { tryQuestion(text: "How do I reset my PIN?") { threshold wouldAnswer matches { confidence article { id title body questions } } } }',
    variables: () => ({}),
    // Ranks only the caller's own tenant's articles.
    asTenantB: staffOnly(own((d) => expectEqual(typeof field<{ threshold: unknown }>(d, 'tryQuestion').threshold, 'number', 'threshold'))),
    asOtherCustomerOfA: refused('FORBIDDEN'),
  },
  {
    field: 'Query.unsureAnswers',
    document: `query { unsureAnswers(first: 10) { ${ANSWER_FIELDS} } }`,
    variables: () => ({}),
    // Only the caller's own tenant's answers (A's unsure ones carry planted markers the leak check looks for).
    asTenantB: staffOnly(own((d) => expectEqual(Array.isArray(d.unsureAnswers), true, 'unsureAnswers is a list'))),
    asOtherCustomerOfA: refused('FORBIDDEN'),
  },
  {
    field: 'Query.answerStats',
    document:
      'query { answerStats(window: LAST_24_HOURS) { asks answered unsure fallback failed withHuman firstToken { count p50Ms p95Ms } buckets { start asks firstToken { count } } } }',
    variables: () => ({}),
    // B's own figures, read from buckets under B's hash tag. B never asks in this world while A's alice
    // asked and was answered: every figure B sees is zero, so one of A's counted here would show.
    asTenantB: staffOnly(
      own((d) => {
        const stats = field<{ asks: number; answered: number; unsure: number; firstToken: { count: number }; buckets: { asks: number }[] }>(
          d,
          'answerStats',
        );
        expectEqual([stats.asks, stats.answered, stats.unsure, stats.firstToken.count], [0, 0, 0, 0], 'B’s answerStats');
        expectEqual(stats.buckets.length, 24, 'answerStats buckets');
        expectEqual(
          stats.buckets.every((b) => b.asks === 0),
          true,
          'no bucket counts an ask',
        );
      }),
    ),
    asOtherCustomerOfA: refused('FORBIDDEN'),
  },
  {
    field: 'Mutation.upsertArticle',
    document: 'mutation($input: ArticleInput!) { upsertArticle(input: $input) { id title body questions locale } }',
    // A's article id: B's admin may only ever write an article of B that happens to share the id.
    variables: (w) => ({
      input: { id: w.a.upsertTargetId, title: 'written by an intruder', body: 'intruder body', questions: ['intruder question'] },
    }),
    asTenantB: adminOnly(
      own((d) => expectEqual(field<{ title: string }>(d, 'upsertArticle').title, 'written by an intruder', 'upsertArticle.title')),
    ),
    asOtherCustomerOfA: refused('FORBIDDEN'),
  },
  {
    field: 'Mutation.deleteArticle',
    document: 'mutation($id: ID!) { deleteArticle(id: $id) }',
    variables: (w) => ({ id: w.a.deleteTargetId }),
    // Schema: "false when it did not exist" (in the caller's tenant).
    asTenantB: adminOnly(own((d) => expectEqual(d.deleteArticle, false, 'deleteArticle'))),
    asOtherCustomerOfA: refused('FORBIDDEN'),
  },
  {
    field: 'Mutation.updateTenant',
    document: 'mutation { updateTenant(name: "renamed by an intruder") { id name articles { id title } } }',
    variables: () => ({}),
    asTenantB: adminOnly(own((d, w) => expectEqual(field<{ id: string }>(d, 'updateTenant').id, w.b.id, 'updateTenant.id'))),
    asOtherCustomerOfA: refused('FORBIDDEN'),
  },
  {
    field: 'Mutation.startSession',
    document: 'mutation { startSession { id userId status turns { text answerId } } }',
    variables: () => ({}),
    // B's "alice" has the same user id as A's alice: she must get a session of B, never A's.
    asTenantB: allRoles(
      own((d, w) => {
        const session = field<{ id: string; turns: unknown[] }>(d, 'startSession');
        if (session.id === w.a.aliceSessionId) throw new Error('startSession resumed A’s session for a user of B');
      }),
    ),
    asOtherCustomerOfA: own((d, w) => {
      if (field<{ id: string }>(d, 'startSession').id === w.a.aliceSessionId)
        throw new Error('startSession resumed alice’s session for mallory');
    }),
  },
  {
    field: 'Mutation.ask',
    document: `mutation($s: ID!) { ask(sessionId: $s, text: "intruder question", clientMessageId: "iso-intruder") { queuePosition answer { ${ANSWER_FIELDS} } } }`,
    variables: (w) => ({ s: w.a.aliceSessionId }),
    // Like session(id): a session of another tenant is unknown in the caller's.
    asTenantB: allRoles(refused('NOT_FOUND')),
    asOtherCustomerOfA: refused('FORBIDDEN'),
  },
  {
    field: 'Mutation.createApiKey',
    document:
      'mutation { createApiKey(name: "intruder key", roles: [ADMIN], persistedOnly: false) { apiKey { id name prefix roles } secret } }',
    variables: () => ({}),
    // A key B's admin creates is B's: its secret names B, and it opens nothing of A (the API-key caller rows show it).
    asTenantB: adminOnly(
      own((d, w) => {
        const { secret } = field<{ secret: string }>(d, 'createApiKey');
        if (!secret.startsWith(`bdk_${w.b.id}_`)) throw new Error(`a key created by B's admin does not name B: ${secret.slice(0, 20)}…`);
      }),
    ),
    asOtherCustomerOfA: refused('FORBIDDEN'),
  },
  {
    field: 'Mutation.revokeApiKey',
    document: 'mutation($id: ID!) { revokeApiKey(id: $id) }',
    variables: (w) => ({ id: w.a.apiKey.id }),
    // Schema: "false when it is unknown" (in the caller's tenant); A's key keeps working (snapshot).
    asTenantB: adminOnly(own((d) => expectEqual(d.revokeApiKey, false, 'revokeApiKey'))),
    asOtherCustomerOfA: refused('FORBIDDEN'),
  },
  {
    field: 'Mutation.updateWidgetSettings',
    document: `mutation { updateWidgetSettings(input: { allowedOrigins: ["https://intruder.example"], greeting: "intruder" }) { ${WIDGET_FIELDS} } }`,
    variables: () => ({}),
    asTenantB: adminOnly(ownWidget('updateWidgetSettings')),
    asOtherCustomerOfA: refused('FORBIDDEN'),
  },
  {
    field: 'Mutation.rotateWidgetKey',
    document: `mutation { rotateWidgetKey { ${WIDGET_FIELDS} } }`,
    variables: () => ({}),
    asTenantB: adminOnly(ownWidget('rotateWidgetKey')),
    asOtherCustomerOfA: refused('FORBIDDEN'),
  },
  {
    field: 'Mutation.rotateWidgetIdentitySecret',
    document: 'mutation { rotateWidgetIdentitySecret }',
    variables: () => ({}),
    asTenantB: adminOnly(own((d) => expectEqual(typeof d.rotateWidgetIdentitySecret, 'string', 'rotateWidgetIdentitySecret'))),
    asOtherCustomerOfA: refused('FORBIDDEN'),
  },
  {
    field: 'Mutation.rateAnswer',
    document: `mutation($id: ID!) { rateAnswer(answerId: $id, helpful: false, comment: "intruder") { ${ANSWER_FIELDS} } }`,
    variables: (w) => ({ id: w.a.aliceAnswerId }),
    // Like answer(id): another tenant's answer is unknown; another user's is not theirs to rate.
    asTenantB: allRoles(refused('NOT_FOUND')),
    asOtherCustomerOfA: refused('FORBIDDEN'),
  },
  {
    field: 'Mutation.deleteMyData',
    document: 'mutation { deleteMyData { sessions answers keys } }',
    variables: () => ({}),
    // B's alice shares A's alice's user id: only B's alice's data goes (the snapshot proves A's alice keeps hers).
    asTenantB: allRoles(own((d) => expectEqual(typeof field<{ keys: unknown }>(d, 'deleteMyData').keys, 'number', 'deleteMyData.keys'))),
    asOtherCustomerOfA: own((d) => expectEqual(typeof field<{ keys: unknown }>(d, 'deleteMyData').keys, 'number', 'deleteMyData.keys')),
  },
  {
    field: 'Mutation.eraseTenant',
    document: 'mutation($t: ID!) { eraseTenant(confirmTenantId: $t) { keys sessions answers articles } }',
    variables: (w) => ({ t: w.a.id }),
    // Schema: admins erase their own tenant only; any other confirmTenantId is BAD_USER_INPUT.
    asTenantB: adminOnly(refused('BAD_USER_INPUT')),
    asOtherCustomerOfA: refused('FORBIDDEN'),
  },
  // Human handoff. Another tenant's session id is FORBIDDEN by its tenant tag (as on answerStream), a
  // staff operation is FORBIDDEN for customers, and B's staff see only B's inbox, agents and rules.
  {
    field: 'Query.tenant',
    variant: 'handoffRules',
    document: '{ tenant { id handoffRules { enabled keywords timeZone workingHours { days from to } whenUnavailable autoAssign } } }',
    variables: () => ({}),
    asTenantB: staffOnly(own((d, w) => expectEqual(field<{ id: string }>(d, 'tenant').id, w.b.id, 'tenant.id'))),
    asOtherCustomerOfA: refused('FORBIDDEN'),
  },
  {
    field: 'Query.tenant',
    variant: 'answerCalibration',
    // Calibrated on B's own articles (numbers only); customers are refused like for handoffRules.
    document:
      '{ tenant { id answerCalibration { threshold targetConfidentWrong confidentWrong expectedHandOffRate handOffRateAtCurrentThreshold questionsAsked articles computedAt } } }',
    variables: () => ({}),
    asTenantB: staffOnly(
      own((d, w) => {
        const tenant = field<{ id: string; answerCalibration: { articles: unknown } }>(d, 'tenant');
        expectEqual(tenant.id, w.b.id, 'tenant.id');
        expectEqual(typeof tenant.answerCalibration.articles, 'number', 'answerCalibration.articles');
      }),
    ),
    asOtherCustomerOfA: refused('FORBIDDEN'),
  },
  {
    field: 'Query.inbox',
    document: `{ inbox(filter: { states: [BOT, WAITING_FOR_HUMAN, WITH_HUMAN, RESOLVED] }) { totalCount eventCursor edges { cursor node { ${CONVERSATION_FIELDS} } } } }`,
    variables: () => ({}),
    asTenantB: staffOnly(
      own((d, w) => {
        const ids = field<{ edges: { node: { id: string } }[] }>(d, 'inbox').edges.map((e) => e.node.id);
        if (ids.includes(w.a.aliceSessionId)) throw new Error('B’s inbox lists A’s conversation');
      }),
    ),
    asOtherCustomerOfA: refused('FORBIDDEN'),
  },
  {
    field: 'Query.conversation',
    document: `query($s: ID!) { conversation(sessionId: $s) { ${CONVERSATION_FIELDS} } }`,
    variables: (w) => ({ s: w.a.aliceSessionId }),
    ...forbiddenEverywhere,
  },
  {
    field: 'Query.agents',
    document: `{ agents { ${AGENT_FIELDS} } }`,
    variables: () => ({}),
    asTenantB: staffOnly(
      own((d) => {
        if (field<{ id: string }[]>(d, 'agents').some((a) => a.id === 'agent-a')) throw new Error('B’s agents list A’s agent');
      }),
    ),
    asOtherCustomerOfA: refused('FORBIDDEN'),
  },
  {
    field: 'Query.myAgent',
    document: `{ myAgent { ${AGENT_FIELDS} } }`,
    variables: () => ({}),
    asTenantB: staffOnly(own((d, _w, c) => expectOwnAgent(field<{ id: string }>(d, 'myAgent').id, c))),
    asOtherCustomerOfA: refused('FORBIDDEN'),
  },
  {
    field: 'Mutation.requestHuman',
    document:
      'mutation($s: ID!) { requestHuman(sessionId: $s) { state reason since waitingPosition agentName agentTyping agentsAvailable } }',
    variables: (w) => ({ s: w.a.aliceSessionId }),
    ...forbiddenEverywhere,
  },
  {
    field: 'Mutation.setTyping',
    document: 'mutation($s: ID!) { setTyping(sessionId: $s, typing: true) }',
    variables: (w) => ({ s: w.a.aliceSessionId }),
    ...forbiddenEverywhere,
  },
  {
    field: 'Mutation.claimConversation',
    document: `mutation($s: ID!) { claimConversation(sessionId: $s) { ${CONVERSATION_FIELDS} } }`,
    variables: (w) => ({ s: w.a.aliceSessionId }),
    ...forbiddenEverywhere,
  },
  {
    field: 'Mutation.assignConversation',
    document: 'mutation($s: ID!) { assignConversation(sessionId: $s, agentId: "agent-a") { id state assignee { id } } }',
    variables: (w) => ({ s: w.a.aliceSessionId }),
    ...forbiddenEverywhere,
  },
  {
    field: 'Mutation.reassignConversation',
    document: 'mutation($s: ID!) { reassignConversation(sessionId: $s, agentId: "agent-a") { id state assignee { id } } }',
    variables: (w) => ({ s: w.a.aliceSessionId }),
    ...forbiddenEverywhere,
  },
  {
    field: 'Mutation.releaseConversation',
    document: 'mutation($s: ID!) { releaseConversation(sessionId: $s) { id state } }',
    variables: (w) => ({ s: w.a.aliceSessionId }),
    ...forbiddenEverywhere,
  },
  {
    field: 'Mutation.sendAgentMessage',
    document: 'mutation($s: ID!) { sendAgentMessage(sessionId: $s, text: "intruder message") { turnSeq text author { id } } }',
    variables: (w) => ({ s: w.a.aliceSessionId }),
    ...forbiddenEverywhere,
  },
  {
    field: 'Mutation.resolveConversation',
    document: 'mutation($s: ID!) { resolveConversation(sessionId: $s) { id state } }',
    variables: (w) => ({ s: w.a.aliceSessionId }),
    ...forbiddenEverywhere,
  },
  {
    field: 'Mutation.returnToBot',
    document: 'mutation($s: ID!) { returnToBot(sessionId: $s) { id state } }',
    variables: (w) => ({ s: w.a.aliceSessionId }),
    ...forbiddenEverywhere,
  },
  {
    field: 'Mutation.addInternalNote',
    document: 'mutation($s: ID!) { addInternalNote(sessionId: $s, text: "intruder note") { id text } }',
    variables: (w) => ({ s: w.a.aliceSessionId }),
    ...forbiddenEverywhere,
  },
  {
    field: 'Mutation.updateMyAgentProfile',
    document: `mutation { updateMyAgentProfile(input: { displayName: "intruder agent" }) { ${AGENT_FIELDS} } }`,
    variables: () => ({}),
    // B's own agent record (the id is the caller's): A's agent of that name is untouched (snapshot).
    asTenantB: staffOnly(own((d, _w, c) => expectOwnAgent(field<{ id: string }>(d, 'updateMyAgentProfile').id, c))),
    asOtherCustomerOfA: refused('FORBIDDEN'),
  },
  {
    field: 'Mutation.updateAgent',
    document: `mutation { updateAgent(agentId: "agent-a", input: { displayName: "renamed by an intruder" }, capacity: 0) { ${AGENT_FIELDS} } }`,
    variables: () => ({}),
    // B's admin may only ever change an agent of B that happens to share A's agent's id.
    asTenantB: adminOnly(
      own((d) => expectEqual(field<{ displayName: string }>(d, 'updateAgent').displayName, 'renamed by an intruder', 'displayName')),
    ),
    asOtherCustomerOfA: refused('FORBIDDEN'),
  },
  {
    field: 'Mutation.updateHandoffRules',
    document: 'mutation { updateHandoffRules(input: { keywords: ["intruder"], autoAssign: false }) { keywords autoAssign } }',
    variables: () => ({}),
    asTenantB: adminOnly(
      own((d) => expectEqual(field<{ keywords: string[] }>(d, 'updateHandoffRules').keywords, ['intruder'], 'keywords')),
    ),
    asOtherCustomerOfA: refused('FORBIDDEN'),
  },
];

export interface SubscriptionCase {
  field: string;
  document: string;
  variables: (world: World) => Record<string, unknown>;
  asTenantB: Record<Role, Outcome | 'live'>;
  asOtherCustomerOfA: Outcome;
}

/**
 * Subscriptions run over graphql-ws and SSE. `live` marks the one legitimate subscription (B's
 * admin on its own tenantActivity), which the suite checks by driving both tenants meanwhile.
 */
export const SUBSCRIPTION_CASES: SubscriptionCase[] = [
  {
    field: 'Subscription.answerStream',
    document: `subscription($s: ID!) { answerStream(sessionId: $s) { answerId seq kind delta queuePosition answer { ${ANSWER_FIELDS} } } }`,
    variables: (w) => ({ s: w.a.aliceSessionId }),
    // Schema: "FORBIDDEN for another user's or another tenant's session".
    asTenantB: { customer: refused('FORBIDDEN'), agent: refused('FORBIDDEN'), admin: refused('FORBIDDEN') },
    asOtherCustomerOfA: refused('FORBIDDEN'),
  },
  {
    field: 'Subscription.tenantActivity',
    document:
      'subscription { tenantActivity { kind at session { id userId turns { text } } answer { id question text sources { title } } } }',
    variables: () => ({}),
    asTenantB: { customer: refused('FORBIDDEN'), agent: refused('FORBIDDEN'), admin: 'live' },
    asOtherCustomerOfA: refused('FORBIDDEN'),
  },
  {
    field: 'Subscription.handoffEvents',
    document: `subscription { handoffEvents(after: "0") { cursor kind conversationId conversation { ${CONVERSATION_FIELDS} } transition { reason actor { id displayName } } message { text author { id displayName } } note { text } typing { typing } agent { id displayName } } }`,
    variables: () => ({}),
    // B's staff follow B's own log (from its start): checked live against A's activity below.
    asTenantB: { customer: refused('FORBIDDEN'), agent: 'live', admin: 'live' },
    asOtherCustomerOfA: refused('FORBIDDEN'),
  },
];
