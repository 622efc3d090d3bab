import { forbidden, isStaff } from '@beedesk/runtime';
import type { TenantAnswerStats } from './data';
import type { AnswerStats, Resolvers } from './generated/resolvers';

/** The answer statistics as the schema has them (times as ISO strings, bucket length in seconds). */
export function toAnswerStats(stats: TenantAnswerStats): AnswerStats {
  return {
    ...stats,
    from: stats.from.toISOString(),
    to: stats.to.toISOString(),
    bucketSeconds: stats.bucketMs / 1000,
    buckets: stats.buckets.map((bucket) => ({ ...bucket, start: bucket.start.toISOString() })),
  };
}

/** `answerStats`: staff of the caller's tenant only; the tenant comes from the verified context, never an argument. */
export const statsResolvers = {
  Query: {
    answerStats: async (_root, { window }, context) => {
      if (!isStaff(context.caller)) throw forbidden('Only agents and admins of this tenant may read its answer statistics.');
      return toAnswerStats(await context.stats.read(context.caller.tenantId, window));
    },
  },
} satisfies Pick<Resolvers, 'Query'>;
