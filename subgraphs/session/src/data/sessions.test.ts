import { createInMemoryRedis } from '@beedesk/runtime';
import { SESSION_RESUME_WINDOW_MS } from './rules';
import { SessionRepository } from './sessions';

// Pure logic of the resume rule and history numbering, on the in-process Redis stand-in
// (the same flows run against real Redis in ops/e2e).
describe('SessionRepository', () => {
  const redis = createInMemoryRedis();
  const sessions = new SessionRepository(redis, `unit${process.pid}`);
  afterAll(() => redis.disconnect());

  it('resumes within 30 minutes and starts anew after', async () => {
    const t0 = new Date('2026-01-01T10:00:00Z');
    const first = await sessions.startOrResume('t1', 'u1', t0);
    expect(first.resumed).toBe(false);
    const again = await sessions.startOrResume('t1', 'u1', new Date(t0.getTime() + SESSION_RESUME_WINDOW_MS - 1000));
    expect(again).toMatchObject({ resumed: true, session: { id: first.session.id } });
    // The pointer's TTL is real time; the stored last-activity decides with a simulated clock.
    const later = await sessions.startOrResume('t1', 'u1', new Date(t0.getTime() + 2 * SESSION_RESUME_WINDOW_MS + 1000));
    expect(later.resumed).toBe(false);
    expect(later.session.id).not.toBe(first.session.id);
  });

  it('gives concurrent starts of one user one session', async () => {
    const started = await Promise.all([1, 2, 3, 4].map(() => sessions.startOrResume('t1', 'concurrent')));
    expect(new Set(started.map((s) => s.session.id)).size).toBe(1);
  });

  it('keeps the last 100 turns with stable sequence numbers', async () => {
    const { session } = await sessions.startOrResume('t2', 'u2');
    for (let i = 1; i <= 105; i++) await sessions.appendTurn('t2', session, { role: i % 2 ? 'USER' : 'ASSISTANT', text: `turn ${i}` });
    const all = await sessions.turns('t2', session.id);
    expect(all).toHaveLength(100);
    expect(all[0]).toMatchObject({ seq: 6, text: 'turn 6' });
    expect(all[99]).toMatchObject({ seq: 105, text: 'turn 105' });
    expect((await sessions.turns('t2', session.id, 2)).map((t) => t.seq)).toEqual([104, 105]);
    expect(await sessions.turns('t2', session.id, 0)).toEqual([]);
  });

  it('never sees another tenant’s session', async () => {
    const { session } = await sessions.startOrResume('t3', 'u3');
    expect(await sessions.get('t4', session.id)).toBeNull();
  });
});
