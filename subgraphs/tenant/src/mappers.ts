// The records tenant resolvers receive and return for schema types (see `mappers` in schema/src/codegen.ts).
export type { ArticleRecord, TenantRecord } from './data';
