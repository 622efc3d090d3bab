import { operationFromDocument } from '@apollo/federation-internals';
import type { FetchNode, PlanNode } from '@apollo/query-planner';
import type { DocumentNode } from 'graphql';
import type { PlannedSupergraph } from '../executor';

/** What the Apollo planner makes of a subscription: one upstream stream, and per event the rest. */
export interface SubscriptionPlan {
  /** Runs against the subgraph that owns the root field, as a graphql-ws subscription. */
  primary: FetchNode;
  /** Entity fetches to other subgraphs, run on each event's data; absent when the owner has it all. */
  rest?: PlanNode;
}

/**
 * Plans subscription operations with the query executor's own planner and supergraph (built once
 * in executor.ts; @apollo/gateway plans subscriptions too, then refuses to execute them). Plans are kept
 * per document text in a small LRU: many clients subscribe with the same few documents.
 */
export class SubscriptionPlanner {
  private readonly cache = new Map<string, SubscriptionPlan>();

  constructor(
    private readonly supergraph: PlannedSupergraph,
    private readonly capacity = 500,
  ) {}

  /** `key` identifies document + operation name (e.g. the document cache's hash). */
  plan(key: string, document: DocumentNode, operationName: string | undefined): SubscriptionPlan {
    const hit = this.cache.get(key);
    if (hit) return hit;
    const operation = operationFromDocument(this.supergraph.apiSchema, document, { operationName, validate: false });
    const node = this.supergraph.planner.buildQueryPlan(operation).node;
    if (node?.kind !== 'Subscription') throw new Error(`expected a subscription plan, got ${node?.kind ?? 'an empty plan'}`);
    const plan: SubscriptionPlan = { primary: node.primary, rest: node.rest };
    if (this.cache.size >= this.capacity) this.cache.delete(this.cache.keys().next().value as string);
    this.cache.set(key, plan);
    return plan;
  }
}
