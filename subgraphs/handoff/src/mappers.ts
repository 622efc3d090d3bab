// The records handoff resolvers receive and return for schema types (see `mappers` in schema/src/codegen.ts).
export type { AgentRecord, AuditRecord, ConversationRecord, HandoffEventRecord, NoteRecord } from './data';

/** A reference to a session entity (resolved by the session subgraph; this one adds `handoff`). */
export interface SessionRef {
  id: string;
}
