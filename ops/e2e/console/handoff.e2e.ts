import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import type { PersistedQueryManifest } from '@beedesk/sdk';
import { repoRoot } from '../../src/cluster';
import { launchChromium, screenshot, seriousAxeViolations } from '../harness/browser';
import { E2E_JWT_SECRET, e2eEnvironment, e2ePort, postGraphQL } from '../harness/cluster';
import { CuttableProxy, startHostSite } from '../widget/host';
import { startConsoleServer } from './console-server';

// The acceptance scenario: two browser contexts against the real gateway (persisted-only), real Redis and
// the shared Kafka. A customer in the widget on a host page, an agent in the console (whose connection
// goes through a proxy the test cuts): unsure question → handoff → the inbox shows it live → claim, type
// (the customer sees typing), reply (the customer sees it) → a cut connection misses nothing → return to
// bot → the engine answers again; an admin adds an article → the customer's next question is answered from it.
const e2e = e2eEnvironment('console-handoff', 16340);
const TENANT = 'handoff-bank';
const SCENARIO = 'console-handoff';
const manifest = JSON.parse(readFileSync(join(repoRoot, 'schema', 'persisted-operations.json'), 'utf8')) as PersistedQueryManifest;
const idOf = (name: string) => manifest.operations.find((o) => o.name === name)!.id;

let browser: Browser;
let consoleServer: Awaited<ReturnType<typeof startConsoleServer>>;
let host: Awaited<ReturnType<typeof startHostSite>>;
let proxy: CuttableProxy;
let widgetKey: string;
let adminToken: string;

const widget = (page: Page) => page.locator('beedesk-widget');
const inWidget = (page: Page, selector: string) => widget(page).locator(selector);
async function ask(page: Page, question: string): Promise<void> {
  if (!(await inWidget(page, '.panel').isVisible())) await inWidget(page, '.launcher').click();
  await inWidget(page, 'textarea').fill(question);
  await inWidget(page, 'textarea').press('Enter');
}
async function adminCall(name: string, variables: Record<string, unknown>): Promise<Record<string, unknown>> {
  const response = await postGraphQL(e2e.gatewayUrl, { documentId: idOf(name), variables }, { authorization: `Bearer ${adminToken}` });
  if (response.body.errors) throw new Error(JSON.stringify(response.body.errors));
  return response.body.data as Record<string, unknown>;
}

beforeAll(async () => {
  host = await startHostSite(e2ePort(16352));
  const consoleOrigin = `http://127.0.0.1:${e2ePort(16350)}`;
  for (const name of ['tenant', 'session', 'answer', 'inference', 'handoff'] as const) await e2e.cluster.start(name);
  await e2e.cluster.start('gateway', { GATEWAY_PERSISTED_ONLY: 'true', CORS_ORIGINS: `${consoleOrigin},${host.origin}` });
  proxy = new CuttableProxy({ host: '127.0.0.1', port: Number(new URL(e2e.gatewayUrl).port) });
  const proxied = await proxy.start(e2ePort(16351));
  adminToken = await e2e.token(TENANT, 'ada', 'admin');
  const admin = e2e.client(adminToken);
  await admin.upsertArticle({
    id: 'card-delivery',
    title: 'Card delivery',
    body: 'New cards arrive within 7 working days.',
    questions: ['my card has not arrived', 'where is my new card', 'card delivery time'],
  });
  await admin.upsertArticle({
    id: 'pin-reset',
    title: 'Reset your PIN',
    body: 'Open the app, go to Card > Security > Reset PIN.',
    questions: ['how do I reset my pin', 'I forgot my PIN', 'pin blocked'],
  });
  // Agents claim conversations themselves here (no automatic assignment).
  await adminCall('ConsoleUpdateHandoffRules', { input: { autoAssign: false } });
  const widgetSettings = await adminCall('ConsoleUpdateWidgetSettings', { input: { allowedOrigins: [host.origin] } });
  widgetKey = (widgetSettings.updateWidgetSettings as { key: string }).key;
  consoleServer = await startConsoleServer(
    e2ePort(16350),
    { signIn: 'development', tenants: [TENANT], graphqlUrl: `${proxied}/graphql` },
    E2E_JWT_SECRET,
  );
  browser = await launchChromium();
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await consoleServer?.close();
  await host?.close();
  await proxy?.stop();
  await e2e.cluster.stopAll();
});

describe('customer in the widget, agent in the console (human handoff, live)', () => {
  let agentContext: BrowserContext;
  let customerContext: BrowserContext;
  let agent: Page;
  let customer: Page;

  beforeAll(async () => {
    agentContext = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    customerContext = await browser.newContext({ viewport: { width: 1000, height: 800 } });
    agent = await agentContext.newPage();
    agent.setDefaultTimeout(20_000);
    customer = await customerContext.newPage();
    customer.setDefaultTimeout(20_000);
  });
  afterAll(async () => {
    await agentContext?.close();
    await customerContext?.close();
  });

  it('hands an unsure question to the agent, whose inbox shows it live; claim, typing and reply reach the customer', async () => {
    await agent.goto(consoleServer.url);
    await agent.getByLabel('Agent').check();
    await agent.getByLabel('Your name').fill('agnes');
    await agent.getByRole('button', { name: 'Sign in' }).click();
    await agent.getByRole('link', { name: 'Inbox' }).click();
    await agent.getByTestId('inbox-connection').getByText('Live').waitFor();
    await agent.getByText('Nobody is waiting for a person.').waitFor();
    await screenshot(agent, SCENARIO, '01-agent-inbox-empty');

    await customer.goto(
      `${host.origin}/page?${new URLSearchParams({ key: widgetKey, gateway: e2e.gatewayUrl.replace(/\/graphql$/, '') })}`,
    );
    await customer.waitForFunction(() => Boolean((window as unknown as { BeedeskWidget?: unknown }).BeedeskWidget));
    await ask(customer, 'what is the weather on mars');
    await inWidget(customer, '.msg.assistant[data-status=done]').first().waitFor({ timeout: 60_000 });
    // The bot was unsure; the customer asks for a person (or the rules already handed it over).
    if (await inWidget(customer, 'button.human').isVisible()) await inWidget(customer, 'button.human').click();
    await inWidget(customer, '.msg.system[role=status]').first().waitFor();
    await screenshot(customer, SCENARIO, '02-customer-waiting');

    // Live, no reload: the waiting list gets the conversation.
    const item = agent.locator('.conversation-item').first();
    await item.waitFor();
    await screenshot(agent, SCENARIO, '03-agent-inbox-live');
    await item.click();
    await agent.getByText('what is the weather on mars').first().waitFor();
    await agent.getByRole('button', { name: 'Claim' }).click();
    await agent.getByTestId('conversation-state').getByText('with agent').waitFor();
    expect(await seriousAxeViolations(agent)).toEqual([]);

    await agent.getByLabel('Reply to the customer').pressSequentially('Hello, this is Agnes', { delay: 30 });
    await inWidget(customer, '.typing').waitFor();
    await screenshot(customer, SCENARIO, '04-customer-sees-typing');
    await agent.getByLabel('Reply to the customer').press('Enter');
    await inWidget(customer, '.msg.agent').filter({ hasText: 'Hello, this is Agnes' }).waitFor();
    await screenshot(customer, SCENARIO, '05-customer-sees-reply');
    await screenshot(agent, SCENARIO, '06-agent-conversation');
  });

  it('misses nothing while its connection is cut: the customer’s message shows after it reconnects', async () => {
    proxy.cut(4000);
    await agent.getByTestId('inbox-connection').getByText('Reconnecting…').waitFor();
    await inWidget(customer, 'textarea').fill('Are you still there?');
    await inWidget(customer, 'textarea').press('Enter');
    await screenshot(agent, SCENARIO, '07-agent-cut');
    await agent.getByTestId('inbox-connection').getByText('Live').waitFor({ timeout: 30_000 });
    await agent.locator('.turn-user').filter({ hasText: 'Are you still there?' }).waitFor();
    await screenshot(agent, SCENARIO, '08-agent-caught-up');
  });

  it('returns the conversation to the bot, which answers the next question', async () => {
    await agent.getByRole('button', { name: 'Return to bot' }).click();
    await agent.getByTestId('conversation-state').getByText('bot').waitFor();
    const answered = await inWidget(customer, '.msg.assistant[data-status=done]').count();
    await ask(customer, 'my card has not arrived');
    await customer.waitForFunction(
      (n) => document.querySelector('beedesk-widget')!.shadowRoot!.querySelectorAll('.msg.assistant[data-status=done]').length > n,
      answered,
    );
    await inWidget(customer, '.msg.assistant[data-status=done]').last().filter({ hasText: 'within 7 working days' }).waitFor();
    // The agent saw the bot's answer in the transcript, with its confidence.
    await agent.locator('.turn-assistant').filter({ hasText: 'within 7 working days' }).waitFor();
    await screenshot(customer, SCENARIO, '09-bot-answers-again');
    await screenshot(agent, SCENARIO, '10-agent-sees-bot');
  });

  it('an admin adds an article in the console; the customer’s next question is answered from it', async () => {
    const adminContext = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    try {
      const admin = await adminContext.newPage();
      admin.setDefaultTimeout(20_000);
      await admin.goto(consoleServer.url);
      await admin.getByRole('button', { name: 'Sign in' }).click();
      await admin.getByRole('link', { name: 'Knowledge base' }).click();
      await admin.getByRole('button', { name: 'New article', exact: true }).click();
      await admin.getByLabel('Title').fill('Travel notice');
      await admin.getByLabel('Answer text').fill('No travel notice is needed: your card works in 150 countries.');
      await admin.getByLabel('Example questions (one a line)').fill('can I use my card abroad\ndo I need to tell you before I travel');
      await admin.getByRole('button', { name: 'Save article' }).click();
      await admin.getByText('Article saved.').waitFor();
      await screenshot(admin, SCENARIO, '11-admin-added-article');
    } finally {
      await adminContext.close();
    }
    const answered = await inWidget(customer, '.msg.assistant[data-status=done]').count();
    await ask(customer, 'can I use my card abroad');
    await customer.waitForFunction(
      (n) => document.querySelector('beedesk-widget')!.shadowRoot!.querySelectorAll('.msg.assistant[data-status=done]').length > n,
      answered,
    );
    await inWidget(customer, '.msg.assistant[data-status=done]').last().filter({ hasText: '150 countries' }).waitFor();
    await screenshot(customer, SCENARIO, '12-customer-answered-from-new-article');
  });
});
