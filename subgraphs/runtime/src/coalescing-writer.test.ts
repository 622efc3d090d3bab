import { CoalescingWriter, joinText } from './coalescing-writer';

describe('CoalescingWriter', () => {
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
    const stream = new CoalescingWriter(joinText, held.write);
    stream.add('one ');
    expect(held.written).toEqual(['one ']);
    stream.add('two ');
    stream.add('three ');
    stream.add('four');
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

  it('writes one piece per write when each write finishes before the next piece (a slow engine, a quiet consumer)', async () => {
    const written: string[] = [];
    const stream = new CoalescingWriter(joinText, async (delta: string) => void written.push(delta));
    for (const piece of ['a ', 'b ', 'c']) {
      stream.add(piece);
      await stream.flush();
    }
    expect(written).toEqual(['a ', 'b ', 'c']);
  });

  it('stops writing after a failed write: flush and the next add throw its error, queued text is dropped', async () => {
    const held = heldWrites();
    const stream = new CoalescingWriter(joinText, held.write);
    stream.add('one ');
    stream.add('two ');
    held.finish(new Error('claim lost'));
    await expect(stream.flush()).rejects.toThrow('claim lost');
    expect(held.written).toEqual(['one ']);
    expect(() => stream.add('three')).toThrow('claim lost');
    expect(held.written).toEqual(['one ']);
  });

  it('settles without throwing once the write in flight is done', async () => {
    const held = heldWrites();
    const stream = new CoalescingWriter(joinText, held.write);
    stream.add('one ');
    let settled = false;
    const waiting = stream.settled().then(() => (settled = true));
    await Promise.resolve();
    expect(settled).toBe(false);
    held.finish(new Error('claim lost'));
    await waiting;
    expect(settled).toBe(true);
  });

  it('merges with the given function: the latest offset per partition, in one write', async () => {
    const held = heldWrites();
    const sent: Array<Record<number, number>> = [];
    const latest = (waiting: Map<number, number>, added: Map<number, number>) => {
      for (const [partition, offset] of added) waiting.set(partition, Math.max(waiting.get(partition) ?? -1, offset));
      return waiting;
    };
    const commits = new CoalescingWriter(latest, async (offsets: Map<number, number>) => {
      sent.push(Object.fromEntries(offsets));
      await held.write('');
    });
    commits.add(new Map([[0, 5]]));
    commits.add(new Map([[0, 7]]));
    commits.add(new Map([[1, 3]]));
    commits.add(new Map([[0, 6]]));
    held.finish();
    await Promise.resolve();
    await Promise.resolve();
    const flushed = commits.flush();
    held.finish();
    await flushed;
    expect(sent).toEqual([{ 0: 5 }, { 0: 7, 1: 3 }]);
  });
});
