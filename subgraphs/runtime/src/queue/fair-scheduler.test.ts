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

it('while another tenant is active, a tenant runs at most the contended bound; alone, every slot', () => {
  let now = 0;
  const scheduler = new FairScheduler<string>({
    concurrency: 4,
    maxPerTenant: 3,
    maxPerTenantContended: 1,
    contentionWindowMs: 1000,
    now: () => now,
  });
  for (let i = 0; i < 10; i++) scheduler.add(item('a'));
  const started = [scheduler.next(), scheduler.next(), scheduler.next()];
  expect(started.map((s) => s?.tenantId)).toEqual(['a', 'a', 'a']);
  expect(scheduler.next()).toBeNull(); // maxPerTenant: the fourth slot stays open to others
  // b's question arrives: it starts at once, and a starts no more while it has more than one running.
  now = 100;
  const b = item('b');
  scheduler.add(b);
  expect(scheduler.next()).toBe(b);
  scheduler.done(b);
  scheduler.done(started[0]!);
  scheduler.done(started[1]!);
  expect(scheduler.next()).toBeNull(); // a has 1 running and b was read 0.1 s ago
  expect(scheduler.heldByContention).toBe(true);
  scheduler.done(started[2]!);
  expect(scheduler.next()!.tenantId).toBe('a');
  expect(scheduler.next()).toBeNull();
  // b quiet for longer than the window: a is alone again and gets its slots back.
  now = 1101;
  expect(scheduler.heldByContention).toBe(false);
  expect([scheduler.next(), scheduler.next()].map((s) => s?.tenantId)).toEqual(['a', 'a']);
  expect(scheduler.next()).toBeNull();
});

it('a tenant with requests waiting or running keeps the others contended beyond the window', () => {
  let now = 0;
  const scheduler = new FairScheduler<string>({ concurrency: 8, maxPerTenant: 0, maxPerTenantContended: 2, now: () => now });
  scheduler.add(item('b'));
  const b = scheduler.next()!;
  for (let i = 0; i < 5; i++) scheduler.add(item('a'));
  now = 60_000; // b's request was read a minute ago, and its answer still runs
  expect([scheduler.next(), scheduler.next(), scheduler.next()].map((s) => s?.tenantId)).toEqual(['a', 'a', undefined]);
  scheduler.done(b);
  expect(scheduler.next()!.tenantId).toBe('a'); // b is done and quiet: a alone, no bound but the concurrency
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
