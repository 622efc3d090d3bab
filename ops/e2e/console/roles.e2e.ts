import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import WebSocket from 'ws';
import { BeedeskClient, BeedeskError, type PersistedQueryManifest } from '@beedesk/sdk';
import { repoRoot } from '../../src/cluster';
import { e2eEnvironment, postGraphQL } from '../harness/cluster';
import { exchange } from '../widget/visitors';

// Role enforcement of the staff console, server side: every operation the console sends (the manifest's
// Console* documents) is refused to a customer token and a customer API key, and the admin ones to an agent,
// by the subgraphs behind a persisted-only gateway, whatever the UI shows.
const e2e = e2eEnvironment('console-roles', 16320);
const TENANT = 'roles-bank';
const manifest = JSON.parse(readFileSync(join(repoRoot, 'schema', 'persisted-operations.json'), 'utf8')) as PersistedQueryManifest;
const consoleOperations = manifest.operations.filter((o) => o.name.startsWith('Console'));

/** Operations an agent may run (the inbox and the knowledge base's reading side); every other one is admin-only. */
const AGENT_ALLOWED = new Set([
  'ConsoleArticles',
  'ConsoleTryQuestion',
  'ConsoleUnsureAnswers',
  'ConsoleAnswerStats',
  // Reading the calibration is staff-only, not admin-only (knowledge page; changing the threshold is admin's).
  'ConsoleAnswerCalibration',
  'ConsoleInbox',
  'ConsoleConversation',
  'ConsoleAnswerDetails',
  'ConsoleMyAgent',
  'ConsoleHandoffEvents',
  'ConsoleConversationStream',
  'ConsoleClaim',
  'ConsoleRelease',
  'ConsoleSendMessage',
  'ConsoleSetTyping',
  'ConsoleAddNote',
  'ConsoleResolve',
  'ConsoleReturnToBot',
  'ConsoleHandoffSettings',
]);

/** Plausible variables for each operation (the refusal must come from the role, not from bad input). */
const VARIABLES: Record<string, Record<string, unknown>> = {
  ConsoleArticles: { text: 'card', first: 10 },
  ConsoleSaveArticle: { input: { title: 'Intruder', body: 'Intruder body', questions: ['intruder?'] } },
  ConsoleDeleteArticle: { id: 'roles-card' },
  ConsoleTryQuestion: { text: 'where is my card' },
  ConsoleUnsureAnswers: { first: 5 },
  ConsoleAnswerStats: { window: 'LAST_HOUR' },
  ConsoleCreateApiKey: { name: 'intruder', roles: ['ADMIN'], persistedOnly: false },
  ConsoleRevokeApiKey: { id: 'unknown-key' },
  ConsoleUpdateTenant: { name: 'renamed by an intruder' },
  ConsoleUpdateWidgetSettings: { input: { greeting: 'Hello from an intruder' } },
  ConsoleUpdateHandoffRules: { input: { keywords: ['intruder'] } },
  ConsoleUpdateAgent: { agentId: 'agnes', capacity: 5 },
};
/** Operations on one conversation: dora's (another customer's, for the customer callers). */
const SESSION_OPERATIONS = [
  'ConsoleConversation',
  'ConsoleConversationStream',
  'ConsoleClaim',
  'ConsoleRelease',
  'ConsoleSendMessage',
  'ConsoleSetTyping',
  'ConsoleAddNote',
  'ConsoleResolve',
  'ConsoleReturnToBot',
];

let customerToken: string;
let agentToken: string;
let adminToken: string;
let customerKey: string;

beforeAll(async () => {
  for (const name of ['tenant', 'session', 'answer', 'inference', 'handoff'] as const) await e2e.cluster.start(name);
  await e2e.cluster.start('gateway', { GATEWAY_PERSISTED_ONLY: 'true' });
  customerToken = await e2e.token(TENANT, 'carol', 'customer');
  agentToken = await e2e.token(TENANT, 'agnes', 'agent');
  adminToken = await e2e.token(TENANT, 'ada', 'admin');
  const admin = e2e.client(adminToken);
  await admin.upsertArticle({ id: 'roles-card', title: 'Card delivery', body: 'Cards arrive in 5 days.', questions: ['where is my card'] });
  customerKey = (await admin.createApiKey('customer key', ['CUSTOMER'], { persistedOnly: true })).secret;
  // Dora's conversation (another customer than the one who tries the console's operations), with one answer.
  const dora = e2e.client(await e2e.token(TENANT, 'dora', 'customer'));
  const session = await dora.startSession();
  const { answer } = await dora.ask(session.id, 'where is my card');
  await dora.waitForAnswer(answer.id);
  for (const name of SESSION_OPERATIONS) VARIABLES[name] = { sessionId: session.id, text: 'a word from the console', typing: true };
  VARIABLES['ConsoleAnswerDetails'] = { id: answer.id };
  // Agnes exists as an agent once she has read her own record.
  await e2e.client(agentToken).request({ document: consoleOperations.find((o) => o.name === 'ConsoleMyAgent')!.body });
});

afterAll(async () => {
  await e2e.cluster.stopAll();
});

type Caller = { headers: Record<string, string>; connection: { token?: string; apiKey?: string } };
const bearer = (token: string): Caller => ({ headers: { authorization: `Bearer ${token}` }, connection: { token } });

/** The codes of the errors an operation gets (by its manifest id), and whether any staff data came back. */
async function run(name: string, caller: Caller): Promise<{ codes: string[]; data: unknown }> {
  const operation = consoleOperations.find((o) => o.name === name)!;
  if (operation.type === 'subscription') {
    const client = new BeedeskClient({ url: e2e.gatewayUrl, ...caller.connection, webSocketImpl: WebSocket });
    try {
      const iterator = client.subscribe<unknown, Record<string, unknown>>({ document: operation.body }, VARIABLES[name] ?? {});
      const first = await Promise.race([iterator.next(), new Promise<'silent'>((resolve) => setTimeout(() => resolve('silent'), 3000))]);
      await iterator.return?.();
      return { codes: [], data: first === 'silent' ? 'subscribed' : first.value };
    } catch (error) {
      return { codes: [error instanceof BeedeskError ? error.code : String(error)], data: null };
    } finally {
      await client.close();
    }
  }
  const response = await postGraphQL(e2e.gatewayUrl, { documentId: operation.id, variables: VARIABLES[name] ?? {} }, caller.headers);
  return { codes: (response.body.errors ?? []).map((e) => e.extensions?.code ?? 'NONE'), data: response.body.data ?? null };
}

/** True when no root field of the result carries data (null, or a tenant object whose refused field nulled it). */
const noStaffData = (data: unknown): boolean =>
  data === null || Object.values(data as Record<string, unknown>).every((value) => value === null || value === undefined);

describe('console operations are refused by role on the server (persisted-only gateway)', () => {
  it('the console sends only manifest operations, and there are some of each kind', () => {
    expect(consoleOperations.map((o) => o.type).sort()).toEqual(expect.arrayContaining(['mutation', 'query', 'subscription']));
    expect(consoleOperations.length).toBeGreaterThanOrEqual(10);
  });

  it('a customer token runs none of them', async () => {
    for (const { name } of consoleOperations) {
      const result = await run(name, bearer(customerToken));
      expect({ name, codes: result.codes }).toEqual({ name, codes: expect.arrayContaining(['FORBIDDEN']) });
      expect({ name, leaked: !noStaffData(result.data) }).toEqual({ name, leaked: false });
    }
  });

  it('a customer API key (what a widget or partner holds) runs none of them', async () => {
    for (const { name } of consoleOperations) {
      const result = await run(name, { headers: { 'x-api-key': customerKey }, connection: { apiKey: customerKey } });
      expect({ name, codes: result.codes }).toEqual({ name, codes: expect.arrayContaining(['FORBIDDEN']) });
      expect({ name, leaked: !noStaffData(result.data) }).toEqual({ name, leaked: false });
    }
  });

  it('a widget visitor token (from an allowed page) runs none of them', async () => {
    const site = 'https://shop.example';
    const update = consoleOperations.find((o) => o.name === 'ConsoleUpdateWidgetSettings')!;
    const updated = await postGraphQL(
      e2e.gatewayUrl,
      { documentId: update.id, variables: { input: { allowedOrigins: [site] } } },
      { authorization: `Bearer ${adminToken}` },
    );
    const key = (updated.body.data as { updateWidgetSettings: { key: string } }).updateWidgetSettings.key;
    const exchanged = await exchange(e2e.gatewayUrl.replace(/\/graphql$/, ''), site, { key });
    expect(exchanged.status).toBe(200);
    const visitor = exchanged.body.token!;
    for (const operation of consoleOperations.filter((o) => o.type !== 'subscription')) {
      for (const path of ['/graphql', '/widget/graphql']) {
        const response = await postGraphQL(
          e2e.gatewayUrl.replace(/\/graphql$/, path),
          { documentId: operation.id, variables: VARIABLES[operation.name] ?? {} },
          { authorization: `Bearer ${visitor}`, origin: site },
        );
        const codes = (response.body.errors ?? []).map((e) => e.extensions?.code);
        expect({ name: operation.name, path, refused: codes.length > 0, data: noStaffData(response.body.data ?? null) }).toEqual({
          name: operation.name,
          path,
          refused: true,
          data: true,
        });
      }
    }
  });

  it('an agent runs the inbox and knowledge-base reading operations, and none of the admin ones', async () => {
    for (const { name } of consoleOperations) {
      const result = await run(name, bearer(agentToken));
      // Allowed ones may still meet the conversation's state (CONFLICT: e.g. resolving what another agent holds), never a refusal by role.
      if (AGENT_ALLOWED.has(name))
        expect({ name, codes: result.codes.filter((c) => c === 'FORBIDDEN' || c === 'UNAUTHENTICATED') }).toEqual({ name, codes: [] });
      else expect({ name, codes: result.codes }).toEqual({ name, codes: expect.arrayContaining(['FORBIDDEN']) });
    }
    // The article an agent tried to delete and the tenant it tried to rename are untouched.
    const admin = e2e.client(adminToken);
    expect((await admin.tenantWithArticles()).articles.map((a) => a.id)).toContain('roles-card');
    expect((await admin.tenant()).name).not.toBe('renamed by an intruder');
  });

  it('an admin runs every one of them', async () => {
    for (const { name } of consoleOperations) {
      if (name === 'ConsoleDeleteArticle' || name === 'ConsoleUpdateTenant') continue; // run last: they change the tenant
      const result = await run(name, bearer(adminToken));
      expect({ name, codes: result.codes.filter((c) => c === 'FORBIDDEN' || c === 'UNAUTHENTICATED') }).toEqual({ name, codes: [] });
    }
  });
});
