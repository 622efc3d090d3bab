import { connectRedis, type Redis } from '@beedesk/runtime';
import { SESSION_RESUME_WINDOW_MS } from './rules';
import { mintSessionId, sessionIdTenancy } from './session-ids';
import { isSessionActive, SessionRepository, type SessionRecord } from './sessions';

const MINUTE = 60_000;

describe('the 30-minute resume rule', () => {
  const at = (iso: string): SessionRecord => ({ id: 's', userId: 'u', startedAt: iso, lastActiveAt: iso, turnCount: 0 });
  const t0 = Date.parse('2026-01-01T10:00:00Z');

  it('keeps a session active for 30 minutes after the last activity, and no longer', () => {
    expect(SESSION_RESUME_WINDOW_MS).toBe(30 * MINUTE);
    expect(isSessionActive(at('2026-01-01T10:00:00Z'), t0 + 30 * MINUTE - 1)).toBe(true);
    expect(isSessionActive(at('2026-01-01T10:00:00Z'), t0 + 30 * MINUTE)).toBe(false);
  });
});

// Against the real Redis (REDIS_URL or 127.0.0.1:6379), under a key prefix of its own that it removes after.
describe('SessionRepository resume rule (real Redis)', () => {
  const prefix = `unit-session-rules-${process.pid}-${Date.now()}`;
  let redis: Redis;
  let sessions: SessionRepository;
  const t0 = new Date('2026-01-01T10:00:00Z');
  const plus = (minutes: number) => new Date(t0.getTime() + minutes * MINUTE);

  beforeAll(async () => {
    redis = await connectRedis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
    sessions = new SessionRepository(redis, prefix);
  });
  afterAll(async () => {
    const found: string[] = [];
    let cursor = '0';
    do {
      const [next, batch] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 500);
      cursor = next;
      found.push(...batch);
    } while (cursor !== '0');
    if (found.length) await redis.del(...found);
    redis.disconnect();
  });

  it('counts the window from the last activity: a resume extends it', async () => {
    const first = await sessions.startOrResume('t', 'extends', t0);
    const resumed = await sessions.startOrResume('t', 'extends', plus(20));
    expect(resumed).toMatchObject({ resumed: true, session: { id: first.session.id, lastActiveAt: plus(20).toISOString() } });
    // 45 minutes after the start but 25 after the resume: still the same session.
    expect(await sessions.startOrResume('t', 'extends', plus(45))).toMatchObject({ resumed: true, session: { id: first.session.id } });
  });

  it('a question (USER turn) keeps the session resumable, an answer (ASSISTANT turn) does not', async () => {
    const asked = await sessions.startOrResume('t', 'asks', t0);
    await sessions.appendTurn('t', asked.session, { role: 'USER', text: 'where is my card?' }, plus(20));
    expect(await sessions.startOrResume('t', 'asks', plus(35))).toMatchObject({ resumed: true, session: { id: asked.session.id } });

    const answered = await sessions.startOrResume('t', 'answered', t0);
    await sessions.appendTurn('t', answered.session, { role: 'ASSISTANT', text: 'it is on its way' }, plus(20));
    const later = await sessions.startOrResume('t', 'answered', plus(35));
    expect(later.resumed).toBe(false);
    expect(later.session.id).not.toBe(answered.session.id);
  });

  it('never resumes another user’s session', async () => {
    const mine = await sessions.startOrResume('t', 'alice', t0);
    const theirs = await sessions.startOrResume('t', 'bob', plus(1));
    expect(theirs.resumed).toBe(false);
    expect(theirs.session.id).not.toBe(mine.session.id);
  });
});

describe('tenant-tagged session ids', () => {
  it('tell the own tenant’s ids from another tenant’s and from untagged ones', () => {
    const id = mintSessionId('secret', 'acme');
    expect(id).toMatch(/^s[0-9a-f]{12}_[0-9a-f-]{36}$/);
    expect(sessionIdTenancy('secret', 'acme', id)).toBe('own');
    expect(sessionIdTenancy('secret', 'globex', id)).toBe('other');
    // The tag is keyed by the internal secret: without it, it says nothing.
    expect(sessionIdTenancy('another-secret', 'acme', id)).toBe('other');
    expect(sessionIdTenancy('secret', 'acme', '6f1c1f0e-2c59-4e43-9a57-1c7f8e0b1a2b')).toBe('untagged');
  });
});
