/**
 * `@beedesk/answer/data`: answers and the tenant's waiting line, for the inference worker, which claims
 * an answer, streams it and completes it (answer and assistant turn in one fenced script).
 */
export { AnswerRepository, isFinalStatus, type AnswerOutcome, type AnswerRecord, type AnswerStatus } from './answers';
export { FeedbackRepository, RATED_ANSWERS_KEPT, type FeedbackRecord } from './feedback';
export {
  AnswerStatsRepository,
  STATS_WINDOWS,
  type LatencySummary,
  type StatsBucket,
  type StatsWindow,
  type TenantAnswerStats,
} from './stats';
