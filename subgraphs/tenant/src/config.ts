import { z } from 'zod';

/**
 * Caps on each tenant's knowledge base (0: no cap). A model's size and build time grow with the example
 * questions, so these bound one tenant's share of every inference replica's memory and build time.
 * Defaults leave room for several times the demo-bank tenant (77 articles, 10,003 questions, 595 kB).
 */
export const tenantSettings = z.object({
  KB_MAX_ARTICLES: z.coerce.number().int().min(0).default(2_000),
  KB_MAX_QUESTIONS_PER_ARTICLE: z.coerce.number().int().min(0).default(2_000),
  /** UTF-8 bytes of all of a tenant's example questions together. */
  KB_MAX_QUESTION_BYTES: z.coerce
    .number()
    .int()
    .min(0)
    .default(4 * 1024 * 1024),
});
export type TenantSettings = z.infer<typeof tenantSettings>;
