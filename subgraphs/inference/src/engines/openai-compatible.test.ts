import type { InferenceRequest } from '@beedesk/runtime';
import { Agent } from 'undici';
import { KnowledgeIndex } from '@beedesk/knowledge';
import { BreakerRegistry, EngineFallbackError, ResilientEngine, type ResilienceOptions } from '../resilience';
import { FakeOpenAIServer } from './fake-openai-server';
import { OpenAICompatibleEngine } from './openai-compatible';
import type { KnowledgeSource } from './types';

// The LLM engine against a real HTTP server on loopback that streams, stalls, fails and resets.
describe('OpenAI-compatible engine with retries and a circuit breaker', () => {
  const fake = new FakeOpenAIServer();
  const agent = new Agent({ keepAliveTimeout: 1000 });
  let baseUrl: string;
  const index = new KnowledgeIndex();
  index.upsert({
    id: 'card',
    title: 'Card delivery',
    body: 'Cards arrive within 7 days.',
    questions: ['my card has not arrived', 'where is my card'],
    locale: 'en',
  });
  index.upsert({
    id: 'pin',
    title: 'PIN reset',
    body: 'Reset the PIN in the app.',
    questions: ['forgot my pin', 'reset pin'],
    locale: 'en',
  });
  const knowledge: KnowledgeSource = { indexFor: async () => index };
  const resilience: ResilienceOptions = { maxRetries: 2, initialDelayMs: 10, maxDelayMs: 50, breakerThreshold: 3, halfOpenAfterMs: 300 };
  const request: InferenceRequest = {
    v: 1,
    tenantId: 't',
    sessionId: 's',
    userId: 'u',
    answerId: 'a',
    question: 'where is my card?',
    history: [
      { role: 'USER', text: 'hello' },
      { role: 'ASSISTANT', text: 'hi, how can I help?' },
    ],
    requestId: 'r',
    enqueuedAt: 0,
  };

  beforeAll(async () => {
    baseUrl = await fake.start();
  });
  afterAll(async () => {
    await agent.close();
    await fake.stop();
  });

  const makeEngine = (breakers = new BreakerRegistry(resilience)) => {
    const llm = new OpenAICompatibleEngine({
      baseUrl,
      model: 'm',
      firstTokenTimeoutMs: 300,
      idleTimeoutMs: 200,
      dispatcher: agent,
      knowledge,
    });
    return { engine: new ResilientEngine(llm, breakers), breakers };
  };
  const run = async (engine: ResilientEngine, resumeFrom = '') => {
    const tokens: string[] = [];
    const answer = await engine.answer(request, { resumeFrom, onToken: async (t) => void tokens.push(t) });
    return { answer, tokens };
  };

  it('streams tokens and puts the retrieved article and the history into the prompt', async () => {
    fake.plan([]);
    fake.requests.length = 0;
    const { answer, tokens } = await run(makeEngine().engine);
    expect(tokens.length).toBeGreaterThan(3);
    expect(answer.text).toBe(tokens.join(''));
    expect(answer.text).toBe('According to "Card delivery", here is the answer to: where is my card?');
    expect(answer.sourceIds[0]).toBe('card');
    const sent = fake.requests[0]!;
    expect(sent.stream).toBe(true);
    expect(sent.messages.map((m) => m.role)).toEqual(['system', 'user', 'assistant', 'user']);
    expect(sent.messages[0]!.content).toContain('Cards arrive within 7 days.');
  });

  it('retries before the first token: a stall (deadline), a 500 and a reset, then succeeds', async () => {
    for (const failure of ['stall', 'http-500', 'reset'] as const) {
      fake.plan([failure]);
      fake.requests.length = 0;
      const { answer } = await run(makeEngine().engine);
      expect(answer.text).toMatch(/^According to/);
      expect(fake.requests).toHaveLength(2);
    }
  });

  it('does not retry once tokens reached the user: a mid-stream stall becomes a fallback', async () => {
    fake.plan(['stall-mid-stream']);
    fake.requests.length = 0;
    await expect(run(makeEngine().engine)).rejects.toThrow(EngineFallbackError);
    expect(fake.requests).toHaveLength(1);
  });

  it('continues an answer another worker started without repeating it', async () => {
    fake.plan([]);
    const { answer, tokens } = await run(makeEngine().engine, 'According to "Card delivery", ');
    expect(tokens.join('')).toBe('here is the answer to: where is my card?');
    expect(answer.text).toBe('According to "Card delivery", here is the answer to: where is my card?');
  });

  it('opens the circuit after repeated failures, answers fallbacks without calling, closes after recovery', async () => {
    const { engine, breakers } = makeEngine();
    fake.plan([], 'http-500');
    await expect(run(engine)).rejects.toThrow(/gave up/); // 3 attempts: threshold reached
    expect(breakers.worstState()).toBe('OPEN');
    fake.requests.length = 0;
    await expect(run(engine)).rejects.toThrow(/circuit open/);
    expect(fake.requests).toHaveLength(0);
    fake.plan([], 'ok');
    await new Promise((resolve) => setTimeout(resolve, 350));
    const { answer } = await run(engine);
    expect(answer.text).toMatch(/^According to/);
    expect(breakers.worstState()).toBe('CLOSED');
  });

  it('does not retry a 400 (the request itself is wrong)', async () => {
    fake.plan(['http-400']);
    fake.requests.length = 0;
    await expect(run(makeEngine().engine)).rejects.toThrow(EngineFallbackError);
    expect(fake.requests).toHaveLength(1);
  });
});

// Issue 17: the claimed sources are the articles the answer used, not every article retrieved above a floor.
describe('OpenAI-compatible engine: claimed sources', () => {
  const fake = new FakeOpenAIServer();
  const agent = new Agent({ keepAliveTimeout: 1000 });
  const index = new KnowledgeIndex({ encoder: null });
  index.upsert({
    id: 'declined',
    title: 'Card payment declined',
    body: 'A declined card payment is usually a blocked card or a low balance: check the app, then try again.',
    questions: ['my card payment was declined', 'why was my card declined at the shop', 'card refused in a store'],
    locale: 'en',
  });
  index.upsert({
    id: 'blocked',
    title: 'Card blocked',
    body: 'Unblock your card in the app under Cards.',
    questions: ['my card is blocked', 'how do I unblock my card', 'card frozen'],
    locale: 'en',
  });
  index.upsert({
    id: 'phone',
    title: 'Lost or stolen phone',
    body: 'Freeze your account from another device and call us.',
    questions: ['I lost my phone', 'my phone was stolen'],
    locale: 'en',
  });
  const question: InferenceRequest = {
    v: 1,
    tenantId: 't',
    sessionId: 's',
    userId: 'u',
    answerId: 'a',
    question: 'declined or blocked card',
    history: [],
    requestId: 'r',
    enqueuedAt: 0,
  };
  let engine: OpenAICompatibleEngine;

  beforeAll(async () => {
    const baseUrl = await fake.start();
    engine = new OpenAICompatibleEngine({
      baseUrl,
      model: 'm',
      firstTokenTimeoutMs: 1000,
      idleTimeoutMs: 1000,
      dispatcher: agent,
      knowledge: { indexFor: async () => index },
    });
  });
  afterAll(async () => {
    fake.answerFrom = 1;
    await agent.close();
    await fake.stop();
  });

  const ask = () => engine.answer(question, { resumeFrom: '', onToken: async () => undefined });

  it('retrieves more than one plausible article for the question (the case the claim must narrow)', async () => {
    const ranked = (await index.searchAsync(question.question)).ranked;
    expect(ranked.filter((r) => r.confidence >= 0.2).length).toBeGreaterThanOrEqual(2);
  });

  it('claims only the article the answer was written from: the first', async () => {
    fake.answerFrom = 1;
    const ranked = (await index.searchAsync(question.question)).ranked;
    const answer = await ask();
    expect(answer.sourceIds).toEqual([ranked[0]!.article.id]);
  });

  it('claims the second article when the answer uses it, not the best-ranked one', async () => {
    fake.answerFrom = 2;
    const ranked = (await index.searchAsync(question.question)).ranked;
    const answer = await ask();
    expect(answer.sourceIds).toEqual([ranked[1]!.article.id]);
  });

  it('claims no source when the answer uses no article', async () => {
    fake.answerFrom = 0;
    const answer = await ask();
    expect(answer.text).toMatch(/no article/);
    expect(answer.sourceIds).toEqual([]);
  });

  it('asks the model to cite by number and reads a numbered citation', async () => {
    fake.answerFrom = 1;
    fake.requests.length = 0;
    await ask();
    expect(fake.requests[0]!.messages[0]!.content).toMatch(/Cite the article/);
  });
});
