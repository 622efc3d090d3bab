// The records answer resolvers receive and return for schema types (see `mappers` in schema/src/codegen.ts).
export type { ActivityEventMessage, AnswerEventMessage } from '@beedesk/runtime';
export type { AnswerRecord } from './data';
