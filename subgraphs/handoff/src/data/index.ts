/**
 * `@beedesk/handoff/data`: conversation ownership (the handoff state machine and its audit trail), the
 * waiting line, agents and the tenant's handoff event log, for the services that change ownership: the
 * answer package (ask checks ownership; a keyword asks for a person) and inference (automatic handoff).
 */
export * from './records';
