import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import WebSocket from 'ws';
import { BeedeskClient, type AnswerEvent } from '@beedesk/sdk';
import { mintToken } from '@beedesk/gateway';
import { repoRoot, SERVICE_ORDER } from '../../src/cluster';
import { demoBank } from '../../src/demo/data';
import { seedDemoTenants } from '../../src/demo/seed';
import { e2eEnvironment, e2ePort, E2E_JWT_SECRET, postGraphQL } from '../harness/cluster';
import { metric, until } from '../harness/metrics';
import { OtlpReceiver, type ReceivedSpan } from '../../src/otlp-receiver';
import { PrometheusServer } from './prometheus';

// Issue 18's proof with real backends: every service of a real-mode cluster exports its spans over
// OTLP/HTTP (to this test's receiver: no OTLP trace store can be installed from the registries),
// and a real Prometheus (Debian's package) scrapes every service's /metrics and loads the alerting
// rules in ops/observability. One scripted conversation: a customer subscribes to their session's
// answers (graphql-ws), asks, and reads the streamed answer.
const e2e = e2eEnvironment('observ', 16410);
const RECEIVER_PORT = e2ePort(16400);
const PROMETHEUS_PORT = e2ePort(16401);
const TENANT = 'demo-bank';
const QUESTION = 'I still have not received my new card, what should I do';
const manifest = JSON.parse(readFileSync(join(repoRoot, 'schema', 'persisted-operations.json'), 'utf8')) as {
  operations: { id: string; name: string; body: string }[];
};
const RULES = join(repoRoot, 'ops', 'observability', 'prometheus', 'alerts.yml');

const SERVER = 2;
const PRODUCER = 4;
const CONSUMER = 5;

const receiver = new OtlpReceiver();
const prometheus = new PrometheusServer();
let traceId = '';
let answerId = '';
let answerText = '';
let received: AnswerEvent[] = [];
let token = '';
/** Wall time from sending `ask` to reading DONE, seconds: the first token came within it. */
let askToDoneSeconds = 0;

beforeAll(async () => {
  const otlp = await receiver.start(RECEIVER_PORT);
  Object.assign(e2e.env, { OTEL_EXPORTER_OTLP_ENDPOINT: otlp, OTEL_TRACES_SAMPLER_ARG: '1', LOG_LEVEL: 'debug' });
  await e2e.cluster.startAll();
  await seedDemoTenants(e2e.gatewayUrl, { tenants: [demoBank()], jwtSecret: E2E_JWT_SECRET });
  await prometheus.start(
    PROMETHEUS_PORT,
    SERVICE_ORDER.map((name) => ({ job: name, address: `127.0.0.1:${e2e.cluster.portOf(name)}` })),
    [RULES],
  );

  // The scripted conversation.
  token = await mintToken({ tenant: TENANT, user: 'olivia', roles: ['customer'], secret: E2E_JWT_SECRET });
  const client = new BeedeskClient({ url: e2e.gatewayUrl, token, webSocketImpl: WebSocket });
  const session = await client.startSession();
  const openBefore = await metric(e2e.cluster.urlOf('answer'), 'beedesk_open_subscriptions');
  const stream = client.answerStream(session.id)[Symbol.asyncIterator]();
  const first = stream.next();
  await until(
    async () => (await metric(e2e.cluster.urlOf('answer'), 'beedesk_open_subscriptions')) >= openBefore + 1,
    10_000,
    'subscribed',
  );
  const askedAt = performance.now();
  const receipt = await client.ask(session.id, QUESTION);
  answerId = receipt.answer.id;
  let next = first;
  for (;;) {
    const { value, done } = await next;
    if (done) throw new Error('the answer stream ended before DONE');
    received.push(value);
    if (value.answerId === answerId && (value.kind === 'DONE' || value.kind === 'FALLBACK' || value.kind === 'ERROR')) {
      answerText = value.answer?.text ?? '';
      askToDoneSeconds = (performance.now() - askedAt) / 1000;
      break;
    }
    next = stream.next();
  }
  await stream.return?.();
  received = received.filter((e) => e.answerId === answerId);

  // The ask's trace: the gateway's `mutation` span of operation Ask; its spans arrive in batches (1 s).
  await until(
    () => {
      const ask = receiver.spans.find((s) => s.name === 'mutation' && s.attributes['graphql.operation.name'] === 'Ask');
      if (!ask) return false;
      traceId = ask.traceId;
      const spans = receiver.trace(traceId);
      // The worker's process span ends last (after the answer is written and the offset committed).
      return spans.filter((s) => s.name === 'subscription event').length >= received.length && spans.some((s) => s.kind === CONSUMER);
    },
    20_000,
    'the ask trace with its subscription events exported',
  );
}, 240_000);

afterAll(async () => {
  await e2e.cluster.stopAll();
  await prometheus.stop();
  await receiver.stop();
});

const byId = (spans: ReceivedSpan[]) => new Map(spans.map((s) => [s.spanId, s]));

describe('one trace from the question to the last streamed event', () => {
  it('is connected: every span of the ask reaches the gateway request through its parents', () => {
    const spans = receiver.trace(traceId);
    const index = byId(spans);
    const roots = spans.filter((s) => s.parentSpanId === '');
    expect(roots.map((r) => [r.service, r.name, r.kind])).toEqual([['gateway', 'POST /graphql', SERVER]]);
    for (const span of spans) {
      let hops = 0;
      let at: ReceivedSpan | undefined = span;
      while (at && at.parentSpanId !== '' && hops++ < 100) at = index.get(at.parentSpanId);
      expect({ span: span.name, reached: at?.spanId }).toEqual({ span: span.name, reached: roots[0]!.spanId });
    }
    expect([...new Set(spans.map((s) => s.service))]).toEqual(expect.arrayContaining(['gateway', 'answer', 'inference']));
  });

  it('follows the question through the gateway, the answer subgraph, Kafka, the worker and Redis pub/sub', () => {
    const spans = receiver.trace(traceId);
    const index = byId(spans);
    const parentOf = (s: ReceivedSpan) => index.get(s.parentSpanId);
    const one = (predicate: (s: ReceivedSpan) => boolean, what: string) => {
      const found = spans.filter(predicate);
      expect({ what, count: found.length }).toEqual({ what, count: 1 });
      return found[0]!;
    };
    const operation = one((s) => s.service === 'gateway' && s.name === 'mutation', 'gateway operation span');
    expect(operation.attributes['graphql.operation.type']).toBe('mutation');
    const fetch = one((s) => s.name === 'fetch answer' && parentOf(s) === operation, 'subgraph fetch');
    const answerServer = one((s) => s.service === 'answer' && s.kind === SERVER && parentOf(s) === fetch, 'answer subgraph request');
    expect(answerServer.attributes['graphql.operation.type']).toBe('mutation');
    const send = one((s) => s.kind === PRODUCER && s.name === `send ${e2e.topic}`, 'Kafka send');
    expect(send.service).toBe('answer');
    expect(send.attributes['messaging.system']).toBe('kafka');
    const process = one((s) => s.kind === CONSUMER && s.name === `process ${e2e.topic}`, 'Kafka process');
    expect(process.service).toBe('inference');
    // Linked to the producer's context (messaging conventions), and its child (one message processed alone).
    expect(process.links).toContainEqual({ traceId, spanId: send.spanId });
    expect(process.parentSpanId).toBe(send.spanId);
    expect(process.attributes['messaging.consumer.group.name']).toBe(e2e.env.KAFKA_GROUP_ID);
    const engine = one((s) => s.name === 'answer knowledge-base', 'engine call');
    expect(parentOf(engine)).toBe(process);
    expect(engine.events).toContain('first token');

    // Every event the client received has its delivery span, child of the publish that sent it.
    const published = spans.filter((s) => s.name === 'publish answers');
    const delivered = spans.filter((s) => s.service === 'gateway' && s.name === 'subscription event');
    expect(delivered).toHaveLength(received.length);
    expect(received.filter((e) => e.kind === 'TOKEN').length).toBeGreaterThan(0);
    for (const event of delivered) expect(published).toContain(parentOf(event));
    expect(new Set(published.map((p) => p.service))).toEqual(new Set(['answer', 'inference']));
    // Delivery spans link to the subscription's own span (a trace of its own: the subscribe).
    const subscriptionSpan = receiver.spans.find(
      (s) => s.name === 'subscription' && s.attributes['graphql.operation.name'] === 'AnswerStream',
    );
    expect(subscriptionSpan).toBeDefined();
    for (const event of delivered)
      expect(event.links).toContainEqual({ traceId: subscriptionSpan!.traceId, spanId: subscriptionSpan!.spanId });
  });

  it('names the tenant on every span that works for it, and exports no question, answer or document text', () => {
    const spans = receiver.trace(traceId);
    const tenantSpans = spans.filter(
      (s) => !(s.kind === SERVER && s.service === 'gateway') && !s.name.startsWith('fetch ') && s.name !== 'plan',
    );
    for (const span of tenantSpans)
      expect({ span: span.name, tenant: span.attributes['beedesk.tenant.id'] }).toEqual({ span: span.name, tenant: TENANT });
    expect(answerText.length).toBeGreaterThan(20);
    const exported = receiver.bodies.join('\n');
    expect(exported).not.toContain(QUESTION);
    expect(exported).not.toContain(answerText.slice(0, 40));
    expect(exported).not.toContain('mutation Ask');
    expect(exported).not.toContain('subscription AnswerStream');
  });
});

describe("a persisted operation sent with the caller's own trace context", () => {
  it("continues the caller's trace and names the document by its id, not its text", async () => {
    const getAnswer = manifest.operations.find((o) => o.name === 'GetAnswer')!;
    const callerTrace = '4bf92f3577b34da6a3ce929d0e0e4736';
    const { status, body } = await postGraphQL(
      e2e.gatewayUrl,
      { documentId: getAnswer.id, variables: { id: answerId } },
      { authorization: `Bearer ${token}`, traceparent: `00-${callerTrace}-00f067aa0ba902b7-01` },
    );
    expect(status).toBe(200);
    expect(body.errors).toBeUndefined();
    await until(() => receiver.trace(callerTrace).some((s) => s.name === 'query'), 10_000, 'the persisted query exported');
    const spans = receiver.trace(callerTrace);
    const server = spans.find((s) => s.service === 'gateway' && s.kind === SERVER)!;
    expect(server.parentSpanId).toBe('00f067aa0ba902b7');
    const query = spans.find((s) => s.name === 'query')!;
    expect(query.attributes).toMatchObject({
      'graphql.operation.type': 'query',
      'graphql.operation.name': 'GetAnswer',
      'graphql.document.id': getAnswer.id,
      'beedesk.tenant.id': TENANT,
    });
    expect(server.attributes['graphql.document.id']).toBe(getAnswer.id);
    expect(receiver.bodies.join('\n')).not.toContain(getAnswer.body.slice(0, 30));
  });
});

describe('log lines joined to the trace', () => {
  it('carry the trace and span ids of the span they were written in', async () => {
    const lines = () =>
      [...e2e.cluster.processes.values()].flatMap((p) =>
        p.output
          .join('')
          .split('\n')
          .filter((l) => l.startsWith('{'))
          .map((l) => JSON.parse(l) as Record<string, unknown>),
      );
    const joined = lines().filter((l) => l['trace_id'] === traceId);
    // "question queued" (answer), the worker's line for the finished answer (inference), the subgraphs' debug lines.
    expect(new Set(joined.map((l) => l['service']))).toEqual(expect.objectContaining(new Set(['answer', 'inference'])));
    expect(joined.some((l) => l['msg'] === 'question queued' && l['service'] === 'answer')).toBe(true);
    // Spans are exported in batches (every second per process): wait for those of the last lines.
    await until(
      () => joined.every((l) => receiver.trace(traceId).some((s) => s.spanId === l['span_id'])),
      5_000,
      'spans of the log lines',
    ).catch(() => undefined);
    const spans = byId(receiver.trace(traceId));
    for (const line of joined) {
      const span = spans.get(String(line['span_id']));
      expect({ msg: line['msg'], exported: span !== undefined }).toEqual({ msg: line['msg'], exported: true });
      expect(line['service']).toBe(span!.service);
    }
    // A request's lines name their tenant.
    expect(joined.filter((l) => l['msg'] === 'question queued').every((l) => l['tenant'] === TENANT)).toBe(true);
  });
});

describe('a real Prometheus scraping every service', () => {
  const value = async (expr: string): Promise<number> => {
    const result = await prometheus.query(expr);
    return result.length === 0 ? NaN : result[0]!.value;
  };

  beforeAll(async () => {
    // Two scrapes after the conversation, so every series reflects it.
    await until(async () => (await value('min(up)')) === 1, 20_000, 'every target up');
    await until(async () => (await value('sum(beedesk_messaging_process_duration_seconds_count{outcome="ok"})')) >= 1, 20_000, 'scraped');
    await new Promise((r) => setTimeout(r, 2_500));
  }, 60_000);

  it('scrapes every service', async () => {
    const up = await prometheus.query('up');
    expect(Object.fromEntries(up.map((r) => [r.metric['job'], r.value]))).toEqual(Object.fromEntries(SERVICE_ORDER.map((s) => [s, 1])));
  });

  it('has the key series with sane values after the conversation', async () => {
    expect(
      await value('sum(beedesk_gateway_graphql_request_duration_seconds_count{operation_type="mutation",outcome="ok"})'),
    ).toBeGreaterThanOrEqual(2);
    expect(
      await value('sum(beedesk_gateway_graphql_request_duration_seconds_count{operation_type="subscription"})'),
    ).toBeGreaterThanOrEqual(1);
    expect(await value(`sum(beedesk_gateway_graphql_requests_total{tenant="${TENANT}"})`)).toBeGreaterThanOrEqual(3);
    const phases = await prometheus.query('sum by (phase) (beedesk_gateway_graphql_phase_duration_seconds_count)');
    expect(phases.map((p) => p.metric['phase']).sort()).toEqual(['admission', 'execute', 'plan']);
    const fetches = await prometheus.query('sum by (subgraph) (beedesk_gateway_subgraph_fetch_duration_seconds_count)');
    expect(fetches.map((f) => f.metric['subgraph'])).toEqual(expect.arrayContaining(['answer', 'session']));
    expect(await value('sum(beedesk_gateway_subgraph_fetch_errors_total)')).not.toBeGreaterThan(0);
    expect(await value('sum(beedesk_gateway_subscription_event_duration_seconds_count)')).toBeGreaterThanOrEqual(received.length);
    // First token: observed once for the one answer, after 0 s and before the client read DONE.
    expect(await value('sum(beedesk_inference_first_token_seconds_count)')).toBe(1);
    const firstToken = await value('sum(beedesk_inference_first_token_seconds_sum)');
    expect(firstToken).toBeGreaterThan(0);
    expect(firstToken).toBeLessThan(askToDoneSeconds + 0.5);
    // Lag: every request committed.
    await until(async () => (await value('sum(beedesk_inference_queue_lag)')) === 0, 15_000, 'lag back to 0');
    for (const job of SERVICE_ORDER) expect(await value(`process_resident_memory_bytes{job="${job}"}`)).toBeGreaterThan(10_000_000);
  });

  it('stores exemplars that name the traces in the trace store', async () => {
    const firstToken = await prometheus.exemplars('beedesk_inference_first_token_seconds_bucket');
    expect(firstToken.map((e) => e.labels['trace_id'])).toContain(traceId);
    const requests = await prometheus.exemplars('beedesk_gateway_graphql_request_duration_seconds_bucket');
    expect(requests.length).toBeGreaterThan(0);
    const known = new Set(receiver.spans.map((s) => s.traceId));
    for (const exemplar of requests) expect(known.has(exemplar.labels['trace_id']!)).toBe(true);
  });

  it('loads the alerting rules and none fires on a healthy cluster', async () => {
    expect(await prometheus.ruleGroups()).toEqual(expect.arrayContaining(['beedesk-answers', 'beedesk-platform']));
    const firing = (await prometheus.alerts()).filter((a) => a.state === 'firing');
    expect(firing).toEqual([]);
  });
});

describe('errors are exported even when their trace is not sampled', () => {
  it('at ratio 0 a successful request exports nothing, and a failed subgraph fetch exports its error spans', async () => {
    await e2e.cluster.stop('gateway');
    await e2e.cluster.start('gateway', { OTEL_TRACES_SAMPLER_ARG: '0' });
    const auth = { authorization: `Bearer ${token}` };
    const getAnswer = manifest.operations.find((o) => o.name === 'GetAnswer')!;
    const before = receiver.spans.length;
    const fine = await postGraphQL(e2e.gatewayUrl, { documentId: getAnswer.id, variables: { id: answerId } }, auth);
    expect(fine.body.errors).toBeUndefined();

    await e2e.cluster.stop('session');
    const failed = await postGraphQL(e2e.gatewayUrl, { query: 'mutation { startSession { id } }' }, auth);
    expect(failed.body.errors?.length).toBeGreaterThan(0);
    const newGatewaySpans = () => receiver.spans.slice(before).filter((s) => s.service === 'gateway');
    await until(() => newGatewaySpans().some((s) => s.name === 'error fetch session'), 10_000, 'the error span exported');
    await new Promise((r) => setTimeout(r, 1_500));
    const exported = newGatewaySpans();
    // Only error spans: each a root of its own, failed, linked to the unsampled span it stands for.
    expect(exported.every((s) => s.name.startsWith('error '))).toBe(true);
    for (const span of exported) {
      expect(span.parentSpanId).toBe('');
      expect(span.statusCode).toBe(2);
      expect(span.links).toHaveLength(1);
      expect(span.attributes['error.type']).toBeTruthy();
    }
    // The request's log lines are found by the unsampled trace id the error span links to.
    const unsampled = exported.find((s) => s.name === 'error fetch session')!.links[0]!.traceId;
    expect(unsampled).not.toBe(exported[0]!.traceId);
  });
});
