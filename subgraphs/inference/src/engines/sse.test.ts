import { remainderAfter, streamChunks } from './chunks';
import { SseParser } from './sse';

describe('SseParser', () => {
  it('yields complete events across arbitrary chunk boundaries', () => {
    const stream = 'data: {"a":1}\n\n: comment\n\ndata: {"b":2}\r\n\r\ndata: [DONE]\n\n';
    for (const size of [1, 3, 7, stream.length]) {
      const parser = new SseParser();
      const events: string[] = [];
      for (let i = 0; i < stream.length; i += size) events.push(...parser.push(stream.slice(i, i + size)));
      expect(events).toEqual(['{"a":1}', '{"b":2}', '[DONE]']);
    }
  });
});

describe('stream chunks', () => {
  it('re-assemble to the original text, English and Chinese', () => {
    for (const text of ['New cards arrive within 7 working days.', '自签收之日起7天内，可申请价格保护。', '']) {
      expect(streamChunks(text).join('')).toBe(text);
    }
    expect(streamChunks('one two three four five six seven')).toHaveLength(3);
  });

  it('continue after an already streamed prefix', () => {
    expect(remainderAfter('hello world', 'hello ')).toBe('world');
    expect(remainderAfter('hello world', 'other')).toBe('hello world');
  });
});
