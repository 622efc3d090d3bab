import { createServer } from 'node:net';
import pino from 'pino';
import { BeedeskClient } from '@beedesk/sdk';
import { mintToken } from '@beedesk/gateway';
import { startEmbedded, type Embedded } from './start';

const SECRET = 'embedded-readiness-secret-123';

/** A port nobody listens on right now (the embedded default is started on fixed ports so it can be polled while it starts). */
const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });

async function statusOf(url: string): Promise<number | 'down'> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(2000) });
    await response.arrayBuffer();
    return response.status;
  } catch {
    return 'down';
  }
}

// Ready means "answers correctly now": a client that starts on the first ready must get the demo KB's answer.
describe('embedded default readiness', () => {
  let embedded: Embedded | undefined;
  afterAll(() => embedded?.close());

  it('/health/ready (and /health) turn ok only once the demo knowledge base answers a known question confidently', async () => {
    const ports = {
      gateway: await freePort(),
      tenant: await freePort(),
      session: await freePort(),
      answer: await freePort(),
      inference: await freePort(),
      handoff: await freePort(),
    };
    const base = `http://127.0.0.1:${ports.gateway}`;
    let startError: unknown;
    const starting = startEmbedded({ logger: pino({ level: 'silent' }), ports, jwtSecret: SECRET }).then(
      (started) => (embedded = started),
      (error: unknown) => (startError = error),
    );

    const seen: { legacy: number | 'down'; ready: number | 'down' }[] = [];
    const deadline = Date.now() + 90_000;
    for (;;) {
      if (startError) throw startError;
      if (Date.now() > deadline) throw new Error(`never ready: ${JSON.stringify(seen.slice(-3))}`);
      // /health first: readiness only moves forward, so /health ok and then /health/ready not ok would be a lie.
      const legacy = await statusOf(`${base}/health`);
      const ready = await statusOf(`${base}/health/ready`);
      seen.push({ legacy, ready });
      if (ready === 200) break;
      await new Promise((r) => setTimeout(r, 20));
    }

    // At once, before anything else can catch up: the known question is answered from the demo knowledge base.
    const token = await mintToken({ tenant: 'demo-bank', user: 'first-client', roles: ['customer'], secret: SECRET });
    const client = new BeedeskClient({ url: `${base}/graphql`, token });
    const session = await client.startSession();
    const answer = await client.waitForAnswer((await client.ask(session.id, "I still haven't received my new card")).answer.id);
    expect(answer).toMatchObject({ status: 'DONE', needsHuman: false });
    expect(answer.sources[0]?.id).toBe('bank-card-arrival');

    // The gateway answered HTTP while it was not ready yet (the ordering above was observed, not assumed)…
    expect(seen.some((s) => s.ready === 503)).toBe(true);
    // …and /health never said ok while /health/ready did not.
    expect(seen.filter((s) => s.legacy === 200 && s.ready !== 200)).toEqual([]);
    // Liveness: ok as soon as it serves at all.
    expect(await statusOf(`${base}/health/live`)).toBe(200);
    await starting;
  }, 120_000);
});
