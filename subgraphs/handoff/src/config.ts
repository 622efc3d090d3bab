import { z } from 'zod';

/** Settings of the handoff service beside the common ones. */
export const handoffSettings = z.object({
  /** How often the assigner looks at the tenants' waiting lines and agents' presence. */
  HANDOFF_ASSIGN_INTERVAL_MS: z.coerce.number().int().min(10).default(250),
  /** How long an agent whose console subscription closed keeps their conversations before they go back to the line. */
  HANDOFF_PRESENCE_GRACE_MS: z.coerce.number().int().min(0).default(60_000),
  /** How long one open console connection counts as presence without a refresh (refreshed every third of it). */
  HANDOFF_PRESENCE_TTL_MS: z.coerce.number().int().min(300).default(15_000),
  /** How long a typing indicator stays on without a refresh. */
  HANDOFF_TYPING_TTL_MS: z.coerce.number().int().min(500).default(5_000),
});
export type HandoffSettings = z.infer<typeof handoffSettings>;

export const DEFAULT_HANDOFF_SETTINGS: HandoffSettings = {
  HANDOFF_ASSIGN_INTERVAL_MS: 250,
  HANDOFF_PRESENCE_GRACE_MS: 60_000,
  HANDOFF_PRESENCE_TTL_MS: 15_000,
  HANDOFF_TYPING_TTL_MS: 5_000,
};
