import type { Role } from '@beedesk/runtime';
import { mintToken } from '@beedesk/gateway';
import { E2E_JWT_SECRET, postGraphQL } from '../harness/cluster';
import { Planted } from './planted';

export interface GraphQLBody {
  data?: Record<string, unknown> | null;
  errors?: { message: string; extensions?: { code?: string } }[];
}
export interface GraphQLResponse {
  status: number;
  body: GraphQLBody;
}

/** One HTTP GraphQL call, with the caller's token (if any) and any extra headers. */
export async function gql(
  url: string,
  token: string | undefined,
  query: string,
  variables: Record<string, unknown> = {},
  headers: Record<string, string> = {},
): Promise<GraphQLResponse> {
  const auth: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};
  const { status, body } = await postGraphQL(url, { query, variables }, { ...auth, ...headers });
  return { status, body: body as GraphQLBody };
}

/** The data of a call that must succeed (setup and control calls). */
export async function dataOf<T>(response: Promise<GraphQLResponse>): Promise<T> {
  const { status, body } = await response;
  if (status !== 200 || body.errors?.length || !body.data) throw new Error(`expected data, got HTTP ${status}: ${JSON.stringify(body)}`);
  return body.data as T;
}

/** The owner of the data under attack: tenant A, its customer alice (who asked), another customer, its admin. */
export interface VictimTenant {
  id: string;
  planted: Planted;
  name: string;
  aliceSessionId: string;
  aliceAnswerId: string;
  /** Another customer of A (carol), whose conversation A's agent (a planted display name) took over. */
  carolSessionId: string;
  /** Every article of A, by id, with its planted title. */
  articleTitles: Map<string, string>;
  /** The article B's admin tries to overwrite, and the one it tries to delete. */
  upsertTargetId: string;
  deleteTargetId: string;
  tokens: { alice: string; mallory: string; admin: string };
  /** A's partner API key (admin, any document): B's admin tries to revoke it, and it must keep working. */
  apiKey: { id: string; secret: string };
  /** A key of A that its admin revoked: refused like an unknown one. */
  revokedApiKeySecret: string;
}

/** The attacker: tenant B, whose customer has the same user id as A's alice. */
export interface AttackerTenant {
  id: string;
  planted: Planted;
  tokens: Record<Role, string>;
  /** B's own partner API key (admin, any document). */
  apiKeySecret: string;
}

export interface World {
  gatewayUrl: string;
  a: VictimTenant;
  b: AttackerTenant;
  /** The user id both tenants' customers share: isolation must not rest on user ids. */
  sharedUserId: string;
}

export const token = (tenant: string, user: string, role: Role, ttlSeconds?: number): Promise<string> =>
  mintToken({ tenant, user, roles: [role], secret: E2E_JWT_SECRET, ttlSeconds });

const UPSERT_ARTICLE = 'mutation($input: ArticleInput!) { upsertArticle(input: $input) { id } }';

interface ArticleSeed {
  key: string;
  questions: string[];
}

/** Articles whose questions the knowledge-base engine can tell apart, every text carrying a planted word. */
const ARTICLES: ArticleSeed[] = [
  { key: 'card', questions: ['my new card has not arrived', 'where is my card', 'card delivery takes too long'] },
  { key: 'pin', questions: ['how do I reset my pin', 'I forgot my pin code', 'change the pin of my card'] },
  { key: 'refund', questions: ['I want a refund', 'how do I get my money back', 'refund for a cancelled order'] },
];

async function plantTenant(
  gatewayUrl: string,
  tenantId: string,
  planted: Planted,
): Promise<{ name: string; articleTitles: Map<string, string> }> {
  const admin = await token(tenantId, 'admin', 'admin');
  const name = planted.text('name');
  await dataOf(
    gql(gatewayUrl, admin, 'mutation($n: String!) { updateTenant(name: $n, answerConfidenceThreshold: 0.3) { id } }', { n: name }),
  );
  const articleTitles = new Map<string, string>();
  for (const article of ARTICLES) {
    const id = planted.id(article.key);
    const title = planted.text(`${article.key}title`);
    const input = {
      id,
      title,
      body: `${planted.text(`${article.key}body`)} follow the steps in the app.`,
      questions: article.questions.map((q, i) => `${q} ${planted.text(`${article.key}q${i}`)}`),
    };
    await dataOf(gql(gatewayUrl, admin, UPSERT_ARTICLE, { input }));
    articleTitles.set(id, title);
  }
  return { name, articleTitles };
}

const CREATE_API_KEY = 'mutation($n: String!) { createApiKey(name: $n, roles: [ADMIN], persistedOnly: false) { apiKey { id } secret } }';

async function createApiKey(gatewayUrl: string, adminToken: string, name: string): Promise<{ id: string; secret: string }> {
  const { createApiKey: created } = await dataOf<{ createApiKey: { apiKey: { id: string }; secret: string } }>(
    gql(gatewayUrl, adminToken, CREATE_API_KEY, { n: name }),
  );
  return { id: created.apiKey.id, secret: created.secret };
}

interface AnswerView {
  answer: { id: string; status: string; text: string; sources: { id: string }[] } | null;
}

/** Polls until the worker has answered (the answer then carries A's article text). */
export async function waitForAnswer(
  gatewayUrl: string,
  ownerToken: string,
  answerId: string,
  timeoutMs = 30_000,
): Promise<AnswerView['answer']> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const response = await gql(gatewayUrl, ownerToken, 'query($id: ID!) { answer(id: $id) { id status text sources { id } } }', {
      id: answerId,
    });
    // A loaded machine (two clusters at once) may time out one poll: poll again.
    const busy = response.body.errors?.every((e) => e.extensions?.code === 'SERVICE_UNAVAILABLE') === true;
    const answer = busy ? null : (await dataOf<AnswerView>(Promise.resolve(response))).answer;
    if (answer && answer.status !== 'QUEUED' && answer.status !== 'ANSWERING') return answer;
    if (Date.now() > deadline) throw new Error(`answer ${answerId} not answered in time: ${JSON.stringify(answer)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** alice of A asks a question carrying a planted word; returns the answer id. */
export async function aliceAsks(world: Pick<World, 'gatewayUrl' | 'a'>, label: string): Promise<string> {
  const text = `my new card has not arrived ${world.a.planted.text(label, 'private')}`;
  const { ask } = await dataOf<{ ask: { answer: { id: string } } }>(
    gql(world.gatewayUrl, world.a.tokens.alice, 'mutation($s: ID!, $t: String!) { ask(sessionId: $s, text: $t) { answer { id } } }', {
      s: world.a.aliceSessionId,
      t: text,
    }),
  );
  return world.a.planted.add(ask.answer.id, 'private');
}

/**
 * Tenant A with a name, articles, alice's session with an answered question, and another
 * customer (mallory); tenant B with its own planted data. Every text is a planted word.
 */
export async function buildWorld(gatewayUrl: string, ids: { a: string; b: string }): Promise<World> {
  const sharedUserId = 'alice';
  const aPlanted = new Planted('A');
  const bPlanted = new Planted('B');
  const [aTenant] = await Promise.all([plantTenant(gatewayUrl, ids.a, aPlanted), plantTenant(gatewayUrl, ids.b, bPlanted)]);
  const [upsertTargetId, deleteTargetId] = [...aTenant.articleTitles.keys()].slice(1);
  const aTokens = {
    alice: await token(ids.a, sharedUserId, 'customer'),
    mallory: await token(ids.a, 'mallory', 'customer'),
    admin: await token(ids.a, 'admin', 'admin'),
  };
  const { startSession } = await dataOf<{ startSession: { id: string } }>(
    gql(gatewayUrl, aTokens.alice, 'mutation { startSession { id } }'),
  );
  await dataOf(gql(gatewayUrl, aTokens.mallory, 'mutation { startSession { id } }'));
  const a: VictimTenant = {
    id: ids.a,
    planted: aPlanted,
    name: aTenant.name,
    aliceSessionId: aPlanted.add(startSession.id, 'private'),
    aliceAnswerId: '',
    carolSessionId: '',
    apiKey: await createApiKey(gatewayUrl, aTokens.admin, aPlanted.text('apikey')),
    revokedApiKeySecret: '',
    articleTitles: aTenant.articleTitles,
    upsertTargetId: upsertTargetId!,
    deleteTargetId: deleteTargetId!,
    tokens: aTokens,
  };
  a.aliceAnswerId = await aliceAsks({ gatewayUrl, a }, 'question1');
  await waitForAnswer(gatewayUrl, aTokens.alice, a.aliceAnswerId);
  // Human handoff: A's agent with a display name, a staff-only note on alice's conversation, A's rules.
  await dataOf(
    gql(
      gatewayUrl,
      await token(ids.a, 'agent-a', 'agent'),
      'mutation($n: String!) { updateMyAgentProfile(input: { displayName: $n }) { id } }',
      {
        n: aPlanted.text('agentname'),
      },
    ),
  );
  const carol = await token(ids.a, 'carol', 'customer');
  const carolSession = await dataOf<{ startSession: { id: string } }>(gql(gatewayUrl, carol, 'mutation { startSession { id } }'));
  a.carolSessionId = aPlanted.add(carolSession.startSession.id, 'private');
  await dataOf(
    gql(gatewayUrl, await token(ids.a, 'agent-a', 'agent'), 'mutation($s: ID!) { claimConversation(sessionId: $s) { id } }', {
      s: a.carolSessionId,
    }),
  );
  await dataOf(
    gql(gatewayUrl, aTokens.admin, 'mutation($s: ID!, $t: String!) { addInternalNote(sessionId: $s, text: $t) { id } }', {
      s: a.aliceSessionId,
      t: aPlanted.text('note', 'private'),
    }),
  );
  await dataOf(
    gql(
      gatewayUrl,
      aTokens.admin,
      'mutation($k: String!) { updateHandoffRules(input: { keywords: [$k], timeZone: "Europe/Berlin" }) { keywords } }',
      {
        k: aPlanted.text('keyword', 'private'),
      },
    ),
  );
  // Her verdict, with a planted remark: listed in A's ratedAnswers, never in B's.
  await dataOf(
    gql(gatewayUrl, aTokens.alice, 'mutation($id: ID!, $c: String) { rateAnswer(answerId: $id, helpful: true, comment: $c) { id } }', {
      id: a.aliceAnswerId,
      c: aPlanted.text('feedback'),
    }),
  );
  const revoked = await createApiKey(gatewayUrl, aTokens.admin, aPlanted.text('revokedkey'));
  await dataOf(gql(gatewayUrl, aTokens.admin, 'mutation($id: ID!) { revokeApiKey(id: $id) }', { id: revoked.id }));
  a.revokedApiKeySecret = aPlanted.add(revoked.secret, 'private');
  const b: AttackerTenant = {
    id: ids.b,
    planted: bPlanted,
    tokens: {
      customer: await token(ids.b, sharedUserId, 'customer'),
      agent: await token(ids.b, 'agent', 'agent'),
      admin: await token(ids.b, 'admin', 'admin'),
    },
    apiKeySecret: (await createApiKey(gatewayUrl, await token(ids.b, 'admin', 'admin'), bPlanted.text('apikey'))).secret,
  };
  aPlanted.add(a.apiKey.id);
  aPlanted.add(a.apiKey.secret, 'private');
  return { gatewayUrl, a, b, sharedUserId };
}

export interface VictimSnapshot {
  name: string;
  articles: [string, string][];
  aliceTurns: number;
  aliceAnswer: string | null;
  /** The tenant A's API key authenticates as (it must keep working). */
  apiKeyTenant: string | null;
  /** Alice's conversation as A's staff see it: ownership, audit length, notes. */
  aliceConversation: unknown;
  handoffRules: unknown;
}

/** What A's own users see of A's tenant: compared before and after each attacking mutation. */
export async function snapshotOfA(world: World): Promise<VictimSnapshot> {
  const { tenant } = await dataOf<{ tenant: { name: string; articles: { id: string; title: string }[] } }>(
    gql(world.gatewayUrl, world.a.tokens.admin, '{ tenant { name articles { id title } } }'),
  );
  const { session } = await dataOf<{ session: { turns: unknown[] } }>(
    gql(world.gatewayUrl, world.a.tokens.alice, 'query($id: ID!) { session(id: $id) { turns { seq } } }', { id: world.a.aliceSessionId }),
  );
  const { answer } = await dataOf<{ answer: { status: string } | null }>(
    gql(world.gatewayUrl, world.a.tokens.alice, 'query($id: ID!) { answer(id: $id) { status } }', { id: world.a.aliceAnswerId }),
  );
  const viaKey = await gql(world.gatewayUrl, undefined, '{ tenant { id } }', {}, { 'x-api-key': world.a.apiKey.secret });
  const { conversation } = await dataOf<{ conversation: unknown }>(
    gql(
      world.gatewayUrl,
      world.a.tokens.admin,
      'query($id: ID!) { conversation(sessionId: $id) { state reason assignee { id } audit { seq } notes { id text } } }',
      { id: world.a.aliceSessionId },
    ),
  );
  const rules = await dataOf<{ tenant: { handoffRules: unknown } }>(
    gql(
      world.gatewayUrl,
      world.a.tokens.admin,
      '{ tenant { handoffRules { enabled keywords timeZone autoAssign defaultAgentCapacity } } }',
    ),
  );
  return {
    name: tenant.name,
    articles: tenant.articles.map((x) => [x.id, x.title]),
    aliceTurns: session.turns.length,
    aliceAnswer: answer?.status ?? null,
    apiKeyTenant: (viaKey.body.data?.tenant as { id: string } | undefined)?.id ?? null,
    aliceConversation: conversation,
    handoffRules: rules.tenant.handoffRules,
  };
}
