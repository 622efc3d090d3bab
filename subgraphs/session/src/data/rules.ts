import { DAY, MINUTE } from '@beedesk/runtime';

/** DESIGN: a user who comes back within 30 minutes continues the same session. */
export const SESSION_RESUME_WINDOW_MS = 30 * MINUTE;
/** DESIGN: history is kept 7 days (turns, and the answers and ask keys of the session with them). */
export const HISTORY_RETENTION_MS = 7 * DAY;
/** A session's history keeps its last 100 turns. */
export const HISTORY_MAX_TURNS = 100;
