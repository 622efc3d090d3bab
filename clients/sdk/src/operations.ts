import type { DocumentTypeDecoration } from '@graphql-typed-document-node/core';
import * as documents from './generated/operations';

/** A GraphQL document tagged with its result and variables types. */
export interface Operation<TData, TVariables> {
  readonly document: string;
  readonly __types?: { data: TData; variables: TVariables };
}

/**
 * An operation of the `.graphql` files beside this module, as `npm run codegen` typed it. It is sent as
 * graphql-js prints it (the generated string only adds blank space around that), which is byte for byte
 * its body in schema/persisted-operations.json, so its APQ hash is its manifest id.
 */
export const operation = <TData, TVariables>(
  typed: DocumentTypeDecoration<TData, TVariables> & { toString(): string },
): Operation<TData, TVariables> => ({ document: typed.toString().trim() });

export const StartSession = operation(documents.StartSessionDocument);
export const GetSession = operation(documents.GetSessionDocument);
export const DeleteMyData = operation(documents.DeleteMyDataDocument);
export const Ask = operation(documents.AskDocument);
export const GetAnswer = operation(documents.GetAnswerDocument);
export const AnswerStream = operation(documents.AnswerStreamDocument);
export const TenantActivity = operation(documents.TenantActivityDocument);
export const GetTenant = operation(documents.GetTenantDocument);
export const GetTenantArticles = operation(documents.GetTenantArticlesDocument);
export const UpsertArticle = operation(documents.UpsertArticleDocument);
export const DeleteArticle = operation(documents.DeleteArticleDocument);
export const UpdateTenant = operation(documents.UpdateTenantDocument);
export const EraseTenant = operation(documents.EraseTenantDocument);
export const CreateApiKey = operation(documents.CreateApiKeyDocument);
export const RevokeApiKey = operation(documents.RevokeApiKeyDocument);
export const GetApiKeys = operation(documents.GetApiKeysDocument);
export const GetInferenceStatus = operation(documents.GetInferenceStatusDocument);

export const ALL_OPERATIONS = {
  StartSession,
  GetSession,
  Ask,
  GetAnswer,
  GetTenant,
  GetTenantArticles,
  UpsertArticle,
  DeleteArticle,
  UpdateTenant,
  GetInferenceStatus,
  DeleteMyData,
  EraseTenant,
  CreateApiKey,
  RevokeApiKey,
  GetApiKeys,
  AnswerStream,
  TenantActivity,
} as const;
