import { CoalescingStream } from './coalescing-stream';

describe('CoalescingStream', () => {
  /** A write that finishes when the test says so, recording what it was given. */
  const heldWrites = () => {
    const written: string[] = [];
    const finishers: Array<(error?: Error) => void> = [];
    const write = (delta: string) =>
      new Promise<void>((resolve, reject) => {
        written.push(delta);
        finishers.push((error) => (error ? reject(error) : resolve()));
      });
    return { written, write, finish: (error?: Error) => finishers.shift()!(error) };
  };

  it('writes a piece at once when no write is in flight, and everything queued behind it in one write', async () => {
    const held = heldWrites();
    const stream = new CoalescingStream(held.write);
    stream.push('one ');
    expect(held.written).toEqual(['one ']);
    stream.push('two ');
    stream.push('three ');
    stream.push('four');
    expect(held.written).toEqual(['one ']);
    held.finish();
    await Promise.resolve();
    await Promise.resolve();
    expect(held.written).toEqual(['one ', 'two three four']);
    const flushed = stream.flush();
    held.finish();
    await flushed;
    expect(held.written.join('')).toBe('one two three four');
  });

  it('writes one piece per write when each write finishes before the next piece (a slow engine)', async () => {
    const written: string[] = [];
    const stream = new CoalescingStream(async (delta) => void written.push(delta));
    for (const piece of ['a ', 'b ', 'c']) {
      stream.push(piece);
      await stream.flush();
    }
    expect(written).toEqual(['a ', 'b ', 'c']);
  });

  it('stops writing after a failed write: flush and the next push throw its error, queued text is dropped', async () => {
    const held = heldWrites();
    const stream = new CoalescingStream(held.write);
    stream.push('one ');
    stream.push('two ');
    held.finish(new Error('claim lost'));
    await expect(stream.flush()).rejects.toThrow('claim lost');
    expect(held.written).toEqual(['one ']);
    expect(() => stream.push('three')).toThrow('claim lost');
    expect(held.written).toEqual(['one ']);
  });

  it('settles without throwing once the write in flight is done', async () => {
    const held = heldWrites();
    const stream = new CoalescingStream(held.write);
    stream.push('one ');
    let settled = false;
    const waiting = stream.settled().then(() => (settled = true));
    await Promise.resolve();
    expect(settled).toBe(false);
    held.finish(new Error('claim lost'));
    await waiting;
    expect(settled).toBe(true);
  });
});
