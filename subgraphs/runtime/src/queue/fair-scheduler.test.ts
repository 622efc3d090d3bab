import { FairScheduler, type ScheduledItem } from './fair-scheduler';

let offset = 0n;
const item = (tenantId: string, session = `s${offset}`, partition = 0): ScheduledItem<string> => ({
  tenantId,
  orderingKey: `${tenantId}/${session}`,
  partition,
  offset: offset++,
  value: `${tenantId}:${session}`,
});

beforeEach(() => {
  offset = 0n;
});

it('serves tenants in turn: a burst of one tenant does not hold back the others', () => {
  const scheduler = new FairScheduler<string>({ concurrency: 100, maxPerTenant: 0 });
  for (let i = 0; i < 50; i++) scheduler.add(item('noisy'));
  scheduler.add(item('b'));
  scheduler.add(item('c'));
  const order = Array.from({ length: 6 }, () => scheduler.next()!.tenantId);
  expect(order.slice(0, 3).sort()).toEqual(['b', 'c', 'noisy']);
  expect(order.slice(3)).toEqual(['noisy', 'noisy', 'noisy']);
});

it('weights give a tenant that many turns per round', () => {
  const scheduler = new FairScheduler<string>({ concurrency: 100, maxPerTenant: 0, weightOf: (t) => (t === 'gold' ? 3 : 1) });
  for (let i = 0; i < 10; i++) scheduler.add(item('gold'));
  for (let i = 0; i < 10; i++) scheduler.add(item('free'));
  const order = Array.from({ length: 8 }, () => scheduler.next()!.tenantId);
  expect(order).toEqual(['gold', 'gold', 'gold', 'free', 'gold', 'gold', 'gold', 'free']);
});

it('caps one tenant’s concurrent answers and the total in flight', () => {
  const scheduler = new FairScheduler<string>({ concurrency: 3, maxPerTenant: 2 });
  for (let i = 0; i < 5; i++) scheduler.add(item('a'));
  const first = scheduler.next()!;
  scheduler.next();
  expect(scheduler.next()).toBeNull(); // a has 2 running
  scheduler.add(item('b'));
  expect(scheduler.next()!.tenantId).toBe('b');
  scheduler.add(item('c'));
  expect(scheduler.next()).toBeNull(); // 3 in flight
  scheduler.done(first);
  expect(scheduler.next()!.tenantId).not.toBe(undefined);
});

it('runs one session’s requests one at a time and in order', () => {
  const scheduler = new FairScheduler<string>({ concurrency: 10, maxPerTenant: 0 });
  const first = item('a', 'same');
  const second = item('a', 'same');
  scheduler.add(first);
  scheduler.add(second);
  scheduler.add(item('a', 'other'));
  expect(scheduler.next()).toBe(first);
  expect(scheduler.next()!.orderingKey).toBe('a/other');
  expect(scheduler.next()).toBeNull();
  scheduler.done(first);
  expect(scheduler.next()).toBe(second);
});

it('commits only the contiguous prefix of finished offsets per partition', () => {
  const scheduler = new FairScheduler<string>({ concurrency: 10, maxPerTenant: 0 });
  const items = [item('a', 'x'), item('b', 'y'), item('c', 'z')];
  for (const i of items) scheduler.add(i);
  const started = [scheduler.next()!, scheduler.next()!, scheduler.next()!];
  const byOffset = (o: bigint) => started.find((s) => s.offset === o)!;
  expect(scheduler.done(byOffset(2n))).toBeNull();
  expect(scheduler.done(byOffset(1n))).toBeNull();
  expect(scheduler.done(byOffset(0n))).toBe(3n);
});

it('after a rebalance drops what waits; the prefix never passes a dropped offset', () => {
  const scheduler = new FairScheduler<string>({ concurrency: 1, maxPerTenant: 0 });
  const running = item('a', 'x', 1);
  scheduler.add(running);
  scheduler.add(item('a', 'y', 1));
  scheduler.add(item('b', 'z', 2));
  expect(scheduler.next()).toBe(running);
  expect(scheduler.dropWaiting()).toBe(2);
  expect(scheduler.size).toBe(0);
  expect(scheduler.next()).toBeNull();
  // Offset 1 was dropped, not done: partition 1 may be committed up to it, not past it.
  expect(scheduler.done(running)).toBe(1n);
  // Partition 2 had nothing running: forgotten, its items start a fresh prefix when read again.
  scheduler.add({ ...item('b', 'z', 2), offset: 2n });
  const again = scheduler.next()!;
  expect(scheduler.done(again)).toBe(3n);
});
