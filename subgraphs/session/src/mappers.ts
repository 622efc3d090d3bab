// The records session resolvers receive and return for schema types (see `mappers` in schema/src/codegen.ts).
export type { SessionRecord, TurnRecord } from './data';
