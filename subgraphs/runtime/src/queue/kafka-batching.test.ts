import type { Kafka, Producer, ProducerRecord } from 'kafkajs';
import { KafkaInferenceQueue, type KafkaQueueOptions } from './kafka';
import type { InferenceRequest } from './types';

/**
 * The producer's batching, against a stand-in for kafkajs' producer whose sends we complete by hand
 * (what is under test is which asks share a produce request and when it goes, not Kafka).
 */
function fakeKafka() {
  const sends: { record: ProducerRecord; complete: () => void }[] = [];
  const producer = {
    events: { CONNECT: 'producer.connect', DISCONNECT: 'producer.disconnect' },
    handlers: new Map<string, () => void>(),
    on(event: string, handler: () => void) {
      this.handlers.set(event, handler);
      return () => undefined;
    },
    async connect() {
      this.handlers.get('producer.connect')?.();
    },
    async disconnect() {},
    send(record: ProducerRecord) {
      return new Promise<void>((resolve) => sends.push({ record, complete: resolve }));
    },
  };
  const kafka = { producer: () => producer as unknown as Producer } as unknown as Kafka;
  return { kafka, sends };
}

const request = (n: number): InferenceRequest => ({
  v: 1,
  tenantId: 't1',
  sessionId: `s${n}`,
  userId: 'u1',
  answerId: `a${n}`,
  question: `question ${n}`,
  history: [],
  requestId: `r${n}`,
  enqueuedAt: 0,
});

const turn = () => new Promise((resolve) => setImmediate(resolve));

/** A connected queue on the stand-in producer, and the sends it made. */
async function connectedQueue(options?: KafkaQueueOptions) {
  const { kafka, sends } = fakeKafka();
  const queue = new KafkaInferenceQueue(kafka, 'topic', options);
  await queue.connect();
  return { queue, sends };
}

describe('KafkaInferenceQueue batching', () => {
  it('sends a lone ask at once, without a fixed linger', async () => {
    const { queue, sends } = await connectedQueue();
    const acked = queue.enqueue(request(1));
    await turn();
    expect(sends).toHaveLength(1);
    sends[0]!.complete();
    await acked;
  });

  it('keeps one request in flight and sends the asks that arrived meanwhile together in the next', async () => {
    const { queue, sends } = await connectedQueue();
    const first = queue.enqueue(request(1));
    await turn();
    const later = [2, 3, 4].map((n) => queue.enqueue(request(n)));
    await turn();
    expect(sends).toHaveLength(1); // the first is still in flight
    sends[0]!.complete();
    await first;
    await turn();
    expect(sends).toHaveLength(2);
    expect(sends[1]!.record.messages.map((m) => JSON.parse(String(m.value)).answerId)).toEqual(['a2', 'a3', 'a4']);
    sends[1]!.complete();
    await Promise.all(later);
  });

  it('splits a backlog into requests of at most maxBatch, and close waits for all of them', async () => {
    const { queue, sends } = await connectedQueue({ maxBatch: 2 });
    const acked = [1, 2, 3, 4, 5].map((n) => queue.enqueue(request(n)));
    let closed = false;
    const closing = queue.close().then(() => (closed = true));
    for (let i = 0; i < 3; i++) {
      await turn();
      expect(closed).toBe(false);
      sends[i]!.complete();
    }
    await closing;
    await Promise.all(acked);
    expect(sends.map((s) => s.record.messages.length)).toEqual([2, 2, 1]);
  });

  it('with a linger, waits that long before the first send', async () => {
    const { queue, sends } = await connectedQueue({ lingerMs: 50 });
    const acked = queue.enqueue(request(1));
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(sends).toHaveLength(0);
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(sends).toHaveLength(1);
    sends[0]!.complete();
    await acked;
  });
});
