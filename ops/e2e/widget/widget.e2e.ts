import { FakeOpenAIServer } from '@beedesk/inference/testing';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { SERVICE_ORDER } from '../../src/cluster';
import { launchChromium, screenshot, seriousAxeViolations } from '../harness/browser';
import { e2eEnvironment, e2ePort } from '../harness/cluster';
import { CuttableProxy, startHostSite } from './host';
import { adminQuery, allowOrigins } from './visitors';

// The web chat widget in real headless Chromium against the real gateway and services (real Redis and
// the shared Kafka). The host pages live on their own origin, as on a customer's site; the widget talks
// to the gateway through a TCP proxy the tests can cut, or make refuse WebSockets. Answers of the LLM
// tenant come from FakeOpenAIServer, slowly (one word every TOKEN_DELAY_MS), so streaming is visible.
const e2e = e2eEnvironment('widget', 16200);
const fake = new FakeOpenAIServer();
const LLM = 'widget-llm';
const CN = 'widget-cn';
const TOKEN_DELAY_MS = 150;
const SCENARIO = 'widget';
let browser: Browser;
let host: { origin: string; close(): Promise<void> };
let proxy: CuttableProxy;
let gateway: string;
let keys: { llm: string; cn: string };
let llmAdmin: string;

/** Records every rendering of the newest answer bubble (inside the shadow root), from the first frame. */
const RECORDER = `
window.__renders = [];
window.__csp = [];
document.addEventListener('securitypolicyviolation', (e) => window.__csp.push(e.violatedDirective + ' ' + (e.blockedURI || 'inline')));
document.addEventListener('beedesk:ready', () => {
  const root = document.querySelector('beedesk-widget').shadowRoot;
  const record = () => {
    const bubbles = root.querySelectorAll('.msg.assistant[data-answer-id]');
    const last = bubbles[bubbles.length - 1];
    if (!last) return;
    const text = last.querySelector('.text') ? last.querySelector('.text').textContent : '';
    const prev = window.__renders[window.__renders.length - 1];
    const thinking = Boolean(last.querySelector('.thinking'));
    if (!prev || prev.text !== text || prev.id !== last.dataset.answerId || prev.status !== last.dataset.status || prev.thinking !== thinking)
      window.__renders.push({ id: last.dataset.answerId, text, status: last.dataset.status, thinking, at: performance.now() });
  };
  new MutationObserver(record).observe(root, { subtree: true, childList: true, characterData: true, attributes: true });
});`;

interface Render {
  id: string;
  text: string;
  status: string;
  /** The "thinking" indicator (or the queue position) is shown instead of text. */
  thinking: boolean;
}

function pageUrl(key: string, options: { lang?: string; variant?: string; transport?: string } = {}): string {
  const params = new URLSearchParams({ key, gateway, ...(options as Record<string, string>) });
  return `${host.origin}/page?${params}`;
}

async function openPage(context: BrowserContext, url: string): Promise<Page> {
  const page = await context.newPage();
  await page.addInitScript(RECORDER);
  await page.goto(url);
  await page.waitForFunction(() => Boolean((window as unknown as { BeedeskWidget?: unknown }).BeedeskWidget));
  return page;
}

const widget = (page: Page) => page.locator('beedesk-widget');
const inWidget = (page: Page, selector: string) => widget(page).locator(selector);

async function ask(page: Page, question: string): Promise<void> {
  if (!(await inWidget(page, '.panel').isVisible())) await inWidget(page, '.launcher').click();
  await inWidget(page, 'textarea').fill(question);
  await inWidget(page, 'textarea').press('Enter');
}

/** Waits for the newest answer to be final and returns its id and the renderings it went through. */
async function finalAnswer(page: Page, timeout = 30_000): Promise<{ id: string; renders: Render[] }> {
  await page.waitForFunction(
    () => {
      const renders = (window as unknown as { __renders: Render[] }).__renders;
      const last = renders[renders.length - 1];
      return last && ['done', 'fallback', 'failed'].includes(last.status);
    },
    undefined,
    { timeout },
  );
  const renders = await page.evaluate(() => (window as unknown as { __renders: Render[] }).__renders);
  const id = renders[renders.length - 1]!.id;
  return { id, renders: renders.filter((r) => r.id === id) };
}

async function storedAnswer(id: string): Promise<{ text: string; status: string; sources: { title: string }[] }> {
  const { answer } = await adminQuery<{ answer: { text: string; status: string; sources: { title: string }[] } }>(
    e2e.gatewayUrl,
    llmAdmin,
    'query($id: ID!) { answer(id: $id) { text status sources { title } } }',
    { id },
  );
  return answer;
}

/** Every rendering is a prefix of the next and of the stored answer: nothing shown twice, nothing lost. */
function expectGrowingPrefixes(renders: Render[], stored: string): void {
  for (let i = 0; i < renders.length; i++) {
    expect(stored.startsWith(renders[i]!.text)).toBe(true);
    if (i > 0) expect(renders[i]!.text.startsWith(renders[i - 1]!.text)).toBe(true);
  }
  expect(renders[renders.length - 1]!.text).toBe(stored);
}

beforeAll(async () => {
  const llmUrl = await fake.start();
  fake.plan([], 'ok', TOKEN_DELAY_MS);
  await Promise.all(
    SERVICE_ORDER.filter((name) => name !== 'gateway').map((name) =>
      e2e.cluster.start(
        name,
        name === 'inference' ? { ENGINE_TENANTS: `${LLM}=llm`, LLM_BASE_URL: llmUrl, LLM_IDLE_TIMEOUT_MS: '5000' } : {},
      ),
    ),
  );
  await e2e.cluster.start('gateway');
  const gatewayPort = Number(new URL(e2e.gatewayUrl).port);
  proxy = new CuttableProxy({ host: '127.0.0.1', port: gatewayPort });
  gateway = await proxy.start(e2ePort(16251));
  host = await startHostSite(e2ePort(16250));
  llmAdmin = await e2e.token(LLM, 'admin', 'admin');
  const cnAdmin = await e2e.token(CN, 'admin', 'admin');
  const admin = e2e.client(llmAdmin);
  await admin.upsertArticle({
    id: 'card-delivery',
    title: 'Card delivery',
    body: 'New cards arrive within 7 working days.',
    questions: ['my card has not arrived', 'where is my new card', 'card delivery time'],
  });
  const cn = e2e.client(cnAdmin);
  await cn.upsertArticle({
    id: 'shipping',
    title: '配送时间',
    body: '订单付款后 48 小时内发货，一般 3 到 5 天送达。您可以在“我的订单”里查看物流。',
    questions: ['我的快递什么时候到', '多久能送到', '什么时候发货'],
    locale: 'zh-CN',
  });
  await cn.upsertArticle({
    id: 'returns',
    title: '退货',
    body: '收货后 7 天内可以申请无理由退货。',
    questions: ['怎么退货', '可以退货吗'],
    locale: 'zh-CN',
  });
  keys = {
    llm: await allowOrigins(e2e.gatewayUrl, llmAdmin, [host.origin]),
    cn: await allowOrigins(e2e.gatewayUrl, cnAdmin, [host.origin]),
  };
  browser = await launchChromium();
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await host?.close();
  await proxy?.stop();
  await e2e.cluster.stopAll();
  await fake.stop();
});

describe('web chat widget in Chromium (real gateway)', () => {
  let context: BrowserContext;
  let page: Page;
  let firstQuestion: string;
  let firstAnswerText: string;

  beforeAll(async () => {
    context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    page = await openPage(context, pageUrl(keys.llm));
  });
  afterAll(() => context.close());

  it('streams an answer word by word (at least three growing renderings), then shows its sources', async () => {
    await screenshot(page, SCENARIO, '01-launcher');
    firstQuestion = 'my card has not arrived yet, where is my new card';
    await ask(page, firstQuestion);
    await page.waitForFunction(() =>
      (window as unknown as { __renders: Render[] }).__renders.some((r) => r.status === 'streaming' && r.text.split(' ').length > 4),
    );
    await screenshot(page, SCENARIO, '03-streaming');
    const { id, renders } = await finalAnswer(page);
    const stored = await storedAnswer(id);
    expect(stored.status).toBe('DONE');
    // "Thinking" until the first token, then text only.
    expect(renders[0]).toMatchObject({ thinking: true, text: '' });
    expect(renders.filter((r) => r.text).every((r) => !r.thinking)).toBe(true);
    const growing = new Set(renders.filter((r) => r.status === 'streaming' && r.text).map((r) => r.text));
    expect(growing.size).toBeGreaterThanOrEqual(3);
    expectGrowingPrefixes(
      renders.filter((r) => r.text),
      stored.text,
    );
    await expect(inWidget(page, '.msg.assistant[data-status=done] .sources a').first().textContent()).resolves.toBe('Card delivery');
    firstAnswerText = stored.text;
    // Polite announcements by whole sentence: the live region holds finished text, not a token.
    const spoken = await inWidget(page, '[aria-live=polite]').textContent();
    expect(spoken && stored.text.includes(spoken.trim().split(' ').slice(-3).join(' '))).toBeTruthy();
    await inWidget(page, '.sources a').first().click();
    await expect(inWidget(page, '.article').textContent()).resolves.toContain('7 working days');
    await inWidget(page, '.fb button').first().click();
    await inWidget(page, '.fb button[aria-pressed=true]').waitFor();
    await screenshot(page, SCENARIO, '04-answered');
    // The feedback is stored where staff read it.
    const rated = await adminQuery<{ ratedAnswers: { id: string; feedback: { helpful: boolean } }[] }>(
      e2e.gatewayUrl,
      llmAdmin,
      '{ ratedAnswers { id feedback { helpful } } }',
    );
    expect(rated.ratedAnswers).toContainEqual({ id, feedback: { helpful: true } });
  });

  it('shows the same conversation after a reload', async () => {
    await page.reload();
    await inWidget(page, '.msg.user').first().waitFor({ timeout: 15_000 });
    await expect(inWidget(page, '.msg.user .text').first().textContent()).resolves.toBe(firstQuestion);
    await expect(inWidget(page, '.msg.assistant[data-answer-id] .text').first().textContent()).resolves.toBe(firstAnswerText);
    // Sources and the visitor's verdict come back too.
    await inWidget(page, '.msg.assistant[data-answer-id] .sources a').first().waitFor();
    await inWidget(page, '.fb button[aria-pressed=true]').first().waitFor();
    await screenshot(page, SCENARIO, '05-after-reload');
  });

  it('resumes an answer cut mid-stream: the text shown equals the stored answer, nothing repeated or lost', async () => {
    const cutsBefore = proxy.cuts;
    await ask(page, 'where is my new card, it has been two weeks and the card delivery time you promised has passed already');
    await page.waitForFunction(() => {
      const renders = (window as unknown as { __renders: Render[] }).__renders;
      const last = renders[renders.length - 1];
      return last && last.status === 'streaming' && last.text.split(' ').length >= 6;
    });
    proxy.cut(2500);
    await inWidget(page, '.status').waitFor({ timeout: 5000 });
    await screenshot(page, SCENARIO, '06-connection-cut');
    const { id, renders } = await finalAnswer(page, 60_000);
    const stored = await storedAnswer(id);
    expect(proxy.cuts).toBe(cutsBefore + 1);
    expectGrowingPrefixes(
      renders.filter((r) => r.text),
      stored.text,
    );
    await expect(inWidget(page, `.msg.assistant[data-answer-id="${id}"] .text`).textContent()).resolves.toBe(stored.text);
    await screenshot(page, SCENARIO, '07-resumed');
  });

  it('shows an unread badge for an answer that arrives while closed', async () => {
    await inWidget(page, '.head .x').click();
    await page.evaluate(() =>
      (window as unknown as { BeedeskWidget: { ask(t: string): Promise<boolean> } }).BeedeskWidget.ask('card delivery time'),
    );
    await inWidget(page, '.badge').waitFor({ timeout: 30_000 });
    await expect(inWidget(page, '.badge').textContent()).resolves.toBe('1');
    await screenshot(page, SCENARIO, '08-unread-badge');
    await inWidget(page, '.launcher').click();
    await expect(inWidget(page, '.badge').count()).resolves.toBe(0);
  });

  it('has no serious or critical axe violations with the panel open', async () => {
    await finalAnswer(page);
    expect(await seriousAxeViolations(page)).toEqual([]);
  });
});

describe('widget transports, languages, hosts and devices', () => {
  it('falls back to SSE when WebSockets are blocked, still streaming', async () => {
    const context = await browser.newContext();
    proxy.blockWebSockets = true;
    try {
      const streams: string[] = [];
      context.on('request', (request) => {
        if ((request.headers()['accept'] ?? '').includes('text/event-stream')) streams.push(request.url());
      });
      const page = await openPage(context, pageUrl(keys.llm));
      await ask(page, 'where is my new card');
      const { id, renders } = await finalAnswer(page, 60_000);
      expect(streams.length).toBeGreaterThan(0);
      const stored = await storedAnswer(id);
      expect(new Set(renders.filter((r) => r.status === 'streaming').map((r) => r.text)).size).toBeGreaterThanOrEqual(3);
      expectGrowingPrefixes(
        renders.filter((r) => r.text),
        stored.text,
      );
      await screenshot(page, SCENARIO, '09-sse-fallback');
    } finally {
      proxy.blockWebSockets = false;
      await context.close();
    }
  });

  it('speaks Simplified Chinese on a zh-CN page, platform messages included', async () => {
    const context = await browser.newContext({ locale: 'en-US' });
    try {
      const page = await openPage(context, pageUrl(keys.cn, { lang: 'zh-CN' }));
      await expect(inWidget(page, '.launcher').getAttribute('aria-label')).resolves.toBe('打开聊天');
      await ask(page, '我的快递什么时候到？');
      await expect(inWidget(page, 'textarea').getAttribute('placeholder')).resolves.toBe('请输入您的问题…');
      await expect(inWidget(page, '.msg.assistant').first().textContent()).resolves.toBe('您好！今天有什么可以帮您？');
      await finalAnswer(page);
      await expect(inWidget(page, '.msg.assistant[data-status=done] .text').last().textContent()).resolves.toContain('48 小时内发货');
      await expect(inWidget(page, '.fb button').first().textContent()).resolves.toContain('有帮助');
      await screenshot(page, SCENARIO, '10-chinese');
    } finally {
      await context.close();
    }
  });

  it('works on a page with a strict nonce-based Content-Security-Policy, without a single violation of its own', async () => {
    const context = await browser.newContext();
    try {
      const page = await openPage(context, pageUrl(keys.llm, { variant: 'csp' }));
      await ask(page, 'where is my new card');
      await finalAnswer(page, 60_000);
      const violations = await page.evaluate(() => (window as unknown as { __csp: string[] }).__csp);
      // The page's own inline script (no nonce) is blocked: proof the policy is enforced. Nothing else is.
      expect(await page.evaluate(() => (window as unknown as { __inlineRan?: boolean }).__inlineRan)).toBeUndefined();
      expect(violations).toEqual(['script-src-elem inline']);
      await screenshot(page, SCENARIO, '11-strict-csp');
    } finally {
      await context.close();
    }
  });

  it('keeps its looks on a page with hostile styles', async () => {
    const context = await browser.newContext();
    try {
      const page = await openPage(context, pageUrl(keys.llm, { variant: 'hostile' }));
      const launcher = await inWidget(page, '.launcher').boundingBox();
      expect(launcher).toMatchObject({ width: 60, height: 60 });
      await ask(page, 'where is my new card');
      await finalAnswer(page, 60_000);
      const look = await inWidget(page, '.msg.assistant[data-status=done]')
        .last()
        .evaluate((el) => {
          const style = getComputedStyle(el);
          const input = (el.getRootNode() as ShadowRoot).querySelector('textarea')!;
          const panel = (el.getRootNode() as ShadowRoot).querySelector('.panel')!.getBoundingClientRect();
          return {
            color: style.color,
            font: style.fontFamily,
            letterSpacing: style.letterSpacing,
            transform: style.textTransform,
            inputSize: getComputedStyle(input).fontSize,
            panelWidth: Math.round(panel.width),
          };
        });
      expect(look.color).not.toBe('rgb(255, 0, 255)');
      expect(look.font).not.toContain('Comic Sans');
      expect(look).toMatchObject({ letterSpacing: 'normal', transform: 'none', inputSize: '16px', panelWidth: 380 });
      await screenshot(page, SCENARIO, '12-hostile-host-styles');
    } finally {
      await context.close();
    }
  });

  it('is usable by keyboard alone, keeping focus sensibly', async () => {
    const context = await browser.newContext();
    try {
      const page = await openPage(context, pageUrl(keys.llm));
      const focused = () =>
        page.evaluate(() => {
          let el: Element | null = document.activeElement;
          while (el?.shadowRoot?.activeElement) el = el.shadowRoot.activeElement;
          return el ? `${el.tagName.toLowerCase()}.${el.className}` : '';
        });
      // Focus moves in an effect after the render that opened or closed the panel: wait for it (5 s at most).
      const focusBecomes = async (expected: string) => {
        const deadline = Date.now() + 5_000;
        let now = await focused();
        while (now !== expected && Date.now() < deadline) {
          await new Promise((r) => setTimeout(r, 50));
          now = await focused();
        }
        expect(now).toBe(expected);
      };
      await page.keyboard.press('Tab');
      await focusBecomes('button.launcher');
      await page.keyboard.press('Enter');
      await focusBecomes('textarea.');
      await page.keyboard.type('where is my new card');
      await page.keyboard.press('Enter');
      await finalAnswer(page, 60_000);
      await page.keyboard.press('Escape');
      await focusBecomes('button.launcher');
      await expect(inWidget(page, '.panel').count()).resolves.toBe(0);
    } finally {
      await context.close();
    }
  });

  it('fills a phone screen above the keyboard, with 16 px inputs, and respects reduced motion', async () => {
    const context = await browser.newContext({
      viewport: { width: 390, height: 844 },
      isMobile: true,
      hasTouch: true,
      reducedMotion: 'reduce',
    });
    try {
      const page = await openPage(context, pageUrl(keys.llm));
      await inWidget(page, '.launcher').click();
      const panel = await inWidget(page, '.panel').boundingBox();
      expect(panel).toMatchObject({ x: 0, y: 0, width: 390, height: 844 });
      const styles = await inWidget(page, '.panel').evaluate((el) => ({
        animation: getComputedStyle(el).animationName,
        input: getComputedStyle((el.getRootNode() as ShadowRoot).querySelector('textarea')!).fontSize,
      }));
      expect(styles).toEqual({ animation: 'none', input: '16px' });
      await screenshot(page, SCENARIO, '13-phone');
    } finally {
      await context.close();
    }
  });
});

describe('talking to a person (human handoff)', () => {
  it('joins the waiting line, shows the agent joining, typing and writing, and keeps it all after a reload', async () => {
    const context = await browser.newContext();
    try {
      const page = await openPage(context, pageUrl(keys.llm));
      await ask(page, 'where is my new card');
      await finalAnswer(page, 60_000);
      await inWidget(page, 'button.human').click();
      await inWidget(page, '.msg.system[role=status]').waitFor({ timeout: 10_000 });
      await expect(inWidget(page, '.msg.system[role=status]').textContent()).resolves.toContain('Waiting for a person');
      await screenshot(page, SCENARIO, '14-waiting-for-a-person');
      const sessionId = await page.evaluate(
        () =>
          (window as unknown as { BeedeskWidget: { controller: { state: { sessionId: string } } } }).BeedeskWidget.controller.state
            .sessionId,
      );
      const dana = e2e.client(await e2e.token(LLM, 'dana', 'agent'));
      await dana.updateMyAgentProfile({ displayName: 'Dana' });
      await dana.claimConversation(sessionId);
      await page.waitForFunction(() =>
        document.querySelector('beedesk-widget')!.shadowRoot!.querySelector('.head p')!.textContent!.includes('Dana'),
      );
      await dana.setTyping(sessionId, true);
      await inWidget(page, '.typing').waitFor({ timeout: 10_000 });
      await expect(inWidget(page, '.typing').textContent()).resolves.toBe('Dana is typing…');
      await screenshot(page, SCENARIO, '15-agent-typing');
      await dana.sendAgentMessage(sessionId, 'Hello, I am Dana. I have ordered a new card for you.', 'w-1');
      await inWidget(page, '.msg.agent').waitFor({ timeout: 10_000 });
      await expect(inWidget(page, '.msg.agent').textContent()).resolves.toContain('I have ordered a new card for you.');
      await expect(inWidget(page, '.msg.agent .who').textContent()).resolves.toBe('Dana');
      // The visitor's reply goes to Dana, not to the assistant: no answer bubble follows.
      const bubbles = await inWidget(page, '.msg.assistant[data-answer-id]').count();
      await inWidget(page, 'textarea').fill('Thank you, Dana!');
      await inWidget(page, 'textarea').press('Enter');
      await page.waitForTimeout(1500);
      await expect(inWidget(page, '.msg.assistant[data-answer-id]').count()).resolves.toBe(bubbles);
      const conversation = await dana.conversation(sessionId);
      expect(JSON.stringify(conversation)).toContain('Thank you, Dana!');
      await screenshot(page, SCENARIO, '16-with-a-person');
      await page.reload();
      await inWidget(page, '.msg.agent').waitFor({ timeout: 15_000 });
      await expect(inWidget(page, '.msg.agent .who').textContent()).resolves.toBe('Dana');
      await page.waitForFunction(() =>
        document.querySelector('beedesk-widget')!.shadowRoot!.querySelector('.head p')!.textContent!.includes('Dana'),
      );
      expect(await seriousAxeViolations(page)).toEqual([]);
      await screenshot(page, SCENARIO, '17-with-a-person-after-reload');
    } finally {
      await context.close();
    }
  });
});
