import { badInput, isSafeId, ROLES, type Role } from '@beedesk/runtime';
import type { ApiKeyRecord } from './data';
import { requireAdmin } from './admin';
import type { Resolvers } from './generated/resolvers';

/** The GraphQL `Role` enum's values (upper case, as GraphQL enums are) and the roles they stand for. */
export type RoleValue = Uppercase<Role>;
const roleOf = (value: RoleValue): Role => value.toLowerCase() as Role;
const valueOf = (role: Role): RoleValue => role.toUpperCase() as RoleValue;

export const API_KEY_LIMITS = { name: 100, activeKeys: 100 } as const;

export interface ApiKeyInput {
  name: string;
  roles: RoleValue[];
  persistedOnly?: boolean | null;
}

/** Checks a createApiKey request; every refusal names the argument. */
export function apiKeyFromInput(input: ApiKeyInput): { name: string; roles: Role[]; persistedOnly: boolean } {
  const name = input.name.trim();
  // eslint-disable-next-line no-control-regex
  if (!name || name.length > API_KEY_LIMITS.name || /[\u0000-\u001f\u007f]/.test(name)) {
    throw badInput(`name: 1 to ${API_KEY_LIMITS.name} characters, no control characters`, 'name');
  }
  const roles = [...new Set(input.roles.map(roleOf))];
  if (roles.length === 0 || !roles.every((role) => (ROLES as readonly string[]).includes(role))) {
    throw badInput('roles: at least one of CUSTOMER, AGENT, ADMIN', 'roles');
  }
  return { name, roles, persistedOnly: input.persistedOnly ?? true };
}

/** An ApiKeyRecord as the schema's ApiKey (roles as enum values). */
const apiKeyOut = (record: ApiKeyRecord) => ({ ...record, roles: record.roles.map(valueOf) });

/** Partner API keys: admins create (the secret is answered once, here), list and revoke them. */
export const apiKeyResolvers = {
  Tenant: {
    apiKeys: async (_tenant, _args, context) => {
      requireAdmin(context, 'see its API keys');
      return (await context.apiKeys.list(context.caller.tenantId)).map(apiKeyOut);
    },
  },
  Mutation: {
    createApiKey: async (_root, args, context) => {
      requireAdmin(context, 'create API keys');
      const input = apiKeyFromInput(args);
      const tenantId = context.caller.tenantId;
      if ((await context.apiKeys.countActive(tenantId)) >= API_KEY_LIMITS.activeKeys) {
        throw badInput(`a tenant may have at most ${API_KEY_LIMITS.activeKeys} active API keys; revoke one first`, 'name');
      }
      const { record, key } = await context.apiKeys.create(tenantId, { ...input, createdBy: context.caller.userId });
      // The key itself is never logged.
      context.log.info({ apiKeyId: record.id, roles: record.roles, persistedOnly: record.persistedOnly }, 'api key created');
      return { apiKey: apiKeyOut(record), secret: key };
    },
    revokeApiKey: async (_root, { id }, context) => {
      requireAdmin(context, 'revoke API keys');
      if (!isSafeId(id)) return false;
      const revoked = await context.apiKeys.revoke(context.caller.tenantId, id);
      context.log.info({ apiKeyId: id, revoked }, 'api key revoked');
      return revoked;
    },
  },
} satisfies Pick<Resolvers, 'Tenant' | 'Mutation'>;
