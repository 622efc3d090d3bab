import type { DocumentTypeDecoration } from '@graphql-typed-document-node/core';
import * as documents from './generated/operations';

/** A GraphQL document tagged with its result and variables types. */
export interface Operation<TData, TVariables> {
  readonly document: string;
  readonly __types?: { data: TData; variables: TVariables };
}

/**
 * The text a document is sent and persisted as: graphql-js's printed form on one line (each line break
 * with the indentation after it becomes one space), e.g. `query GetTenant { tenant { id name } }`.
 * `npm run manifest` lists every client operation in this form, so the sha256 of what a client sends is
 * its manifest id. (Persisted documents hold no block strings, whose line breaks would matter.)
 */
export function persistedText(printed: string): string {
  return printed.trim().replace(/\s*\n\s*/g, ' ');
}

/** An operation of the `.graphql` files beside this module, as `npm run codegen` typed it, in its persisted text. */
export const operation = <TData, TVariables>(
  typed: DocumentTypeDecoration<TData, TVariables> & { toString(): string },
): Operation<TData, TVariables> => ({ document: persistedText(typed.toString()) });

export const StartSession = operation(documents.StartSessionDocument);
export const GetSession = operation(documents.GetSessionDocument);
export const DeleteMyData = operation(documents.DeleteMyDataDocument);
export const Ask = operation(documents.AskDocument);
export const GetAnswer = operation(documents.GetAnswerDocument);
export const ResumeAnswer = operation(documents.ResumeAnswerDocument);
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
export const UpdateWidgetSettings = operation(documents.UpdateWidgetSettingsDocument);
export const GetInferenceStatus = operation(documents.GetInferenceStatusDocument);
// Human handoff (operations/handoff.graphql).
export const ConversationStream = operation(documents.ConversationStreamDocument);
export const AskConversation = operation(documents.AskConversationDocument);
export const GetSessionHandoff = operation(documents.GetSessionHandoffDocument);
export const RequestHuman = operation(documents.RequestHumanDocument);
export const SetTyping = operation(documents.SetTypingDocument);
export const Inbox = operation(documents.InboxDocument);
export const GetConversation = operation(documents.GetConversationDocument);
export const GetAgents = operation(documents.GetAgentsDocument);
export const GetMyAgent = operation(documents.GetMyAgentDocument);
export const UpdateMyAgentProfile = operation(documents.UpdateMyAgentProfileDocument);
export const UpdateAgent = operation(documents.UpdateAgentDocument);
export const ClaimConversation = operation(documents.ClaimConversationDocument);
export const AssignConversation = operation(documents.AssignConversationDocument);
export const ReassignConversation = operation(documents.ReassignConversationDocument);
export const ReleaseConversation = operation(documents.ReleaseConversationDocument);
export const SendAgentMessage = operation(documents.SendAgentMessageDocument);
export const ResolveConversation = operation(documents.ResolveConversationDocument);
export const ReturnToBot = operation(documents.ReturnToBotDocument);
export const AddInternalNote = operation(documents.AddInternalNoteDocument);
export const HandoffEvents = operation(documents.HandoffEventsDocument);
export const GetHandoffRules = operation(documents.GetHandoffRulesDocument);
export const UpdateHandoffRules = operation(documents.UpdateHandoffRulesDocument);

export const ALL_OPERATIONS = {
  StartSession,
  GetSession,
  Ask,
  GetAnswer,
  ResumeAnswer,
  GetTenant,
  GetTenantArticles,
  UpsertArticle,
  DeleteArticle,
  UpdateTenant,
  UpdateWidgetSettings,
  GetInferenceStatus,
  DeleteMyData,
  EraseTenant,
  CreateApiKey,
  RevokeApiKey,
  GetApiKeys,
  AnswerStream,
  TenantActivity,
  ConversationStream,
  AskConversation,
  GetSessionHandoff,
  RequestHuman,
  SetTyping,
  Inbox,
  GetConversation,
  GetAgents,
  GetMyAgent,
  UpdateMyAgentProfile,
  UpdateAgent,
  ClaimConversation,
  AssignConversation,
  ReassignConversation,
  ReleaseConversation,
  SendAgentMessage,
  ResolveConversation,
  ReturnToBot,
  AddInternalNote,
  HandoffEvents,
  GetHandoffRules,
  UpdateHandoffRules,
} as const;
