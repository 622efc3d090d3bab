import { KafkaJSNumberOfRetriesExceeded, KafkaJSProtocolError } from 'kafkajs';
import { retryWhileTopicUnknown } from './kafka';

const unknownTopic = () =>
  // kafkajs builds it from its protocol error table's entry (an object with type, code, retriable and
  // message); its typings accept only an Error or a string, so the entry is given as an Error with those fields.
  new KafkaJSProtocolError(
    Object.assign(new Error('This server does not host this topic-partition'), {
      type: 'UNKNOWN_TOPIC_OR_PARTITION',
      code: 3,
      retriable: true,
    }),
  );

describe('retryWhileTopicUnknown', () => {
  it('tries again while a broker does not know the topic yet, also when kafkajs gave up on it', async () => {
    let calls = 0;
    const result = await retryWhileTopicUnknown(
      async () => {
        calls++;
        if (calls === 1) throw unknownTopic();
        if (calls === 2) throw new KafkaJSNumberOfRetriesExceeded(unknownTopic(), { retryCount: 5, retryTime: 100 });
        return 'subscribed';
      },
      5_000,
      1,
    );
    expect(result).toBe('subscribed');
    expect(calls).toBe(3);
  });

  it('fails at once on any other error', async () => {
    let calls = 0;
    await expect(
      retryWhileTopicUnknown(
        async () => {
          calls++;
          throw new Error('connection refused');
        },
        5_000,
        1,
      ),
    ).rejects.toThrow('connection refused');
    expect(calls).toBe(1);
  });

  it('gives up after its deadline', async () => {
    let calls = 0;
    await expect(
      retryWhileTopicUnknown(
        async () => {
          calls++;
          throw unknownTopic();
        },
        50,
        10,
      ),
    ).rejects.toThrow('does not host');
    expect(calls).toBeGreaterThan(1);
    expect(calls).toBeLessThan(10);
  });
});
