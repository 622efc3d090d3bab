/**
 * `@beedesk/session/data`: sessions, their turns (history) and the 30-minute resume rule, for the
 * services that read or extend them. The answer package checks a session before an ask, writes the
 * user's turn with its answer, and its completion script writes the assistant turn (storedTurnJson).
 */
export {
  isSessionActive,
  SessionRepository,
  storedTurnJson,
  type SessionRecord,
  type StartedSession,
  type TurnRecord,
  type TurnRole,
  type UserDataErasure,
} from './sessions';
export { HISTORY_MAX_TURNS, HISTORY_RETENTION_MS, SESSION_RESUME_WINDOW_MS } from './rules';
export { mintSessionId, sessionIdTenancy } from './session-ids';
