/**
 * `@beedesk/handoff/data`: conversation ownership (the handoff state machine and its audit trail), the
 * waiting line, agents and presence, notes, typing and the tenant's handoff event log (HandoffStore),
 * and the ownership changes with their announcements and the tenant's rules (HandoffActions), for the
 * services that change ownership: answer (ask checks ownership; keywords ask for a person) and
 * inference (automatic handoff after an unsure, out-of-scope or failed answer).
 */
export * from './records';
export { ENGINE_ACTOR, HandoffActions, SYSTEM_ACTOR, type EngineOutcome, type HandoffOutcome, type HandoffRequest } from './actions';
export { customerLocaleOf, localeOfText, noticeText, type CustomerLocale, type HandoffNotice } from './messages';
export { asksForPerson, withinWorkingHours } from './rules';
export {
  customerMessageEntry,
  defaultDisplayName,
  HANDOFF_LOG_MAX,
  LOG_EVENT_LUA,
  HandoffStore,
  type AgentMessageResult,
  type TransitionRequest,
  type TransitionResult,
} from './store';
