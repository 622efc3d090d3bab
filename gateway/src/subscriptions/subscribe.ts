import { AsyncQueue, type Logger } from '@beedesk/runtime';
import { GraphQLError, type DocumentNode, type ExecutionResult, type OperationDefinitionNode } from 'graphql';
import { slowConsumer } from './errors';
import type { EventExecutor } from './event-executor';
import type { SubscriptionPlan } from './planner';
import type { UpstreamConnection } from './upstream';

export interface FederatedSubscriptionRequest {
  plan: SubscriptionPlan;
  document: DocumentNode;
  operation: OperationDefinitionNode;
  /** Already coerced against the operation's variable definitions. */
  variables: Record<string, unknown>;
  requestId: string;
}

export interface FederatedSubscriptionOptions {
  upstream: UpstreamConnection;
  executeEvent: EventExecutor;
  /** The caller's context, signed now (events may come long after the subscription started). */
  signedContext: () => string;
  /** Events received but not yet taken by the client; past it the client is dropped. */
  maxBuffered: number;
  /** Tells the protocol layer the client was too slow (graphql-ws closes the socket). */
  onOverflow: () => void;
  logger: Logger;
}

export type FederatedSubscription = AsyncQueue<ExecutionResult>;

/**
 * One client subscription: the primary stream from the owning subgraph, each event run through
 * `rest` and shaped, delivered strictly in arrival order (events are processed one at a time).
 * When the client leaves (`return()`), the upstream subscription is ended at once. When the
 * upstream fails, what was already received is delivered, then a final result carrying the
 * coded error, then the stream completes.
 */
export function startFederatedSubscription(
  request: FederatedSubscriptionRequest,
  options: FederatedSubscriptionOptions,
): FederatedSubscription {
  let stopUpstream: () => void = () => undefined;
  // The bound is enforced below (received + waiting); the queue's own is only a backstop.
  const out = new AsyncQueue<ExecutionResult>(options.maxBuffered + 1, () => stopUpstream());
  let processing = 0;
  let tail: Promise<void> = Promise.resolve();
  const primaryVariables = Object.fromEntries(
    (request.plan.primary.variableUsages ?? []).filter((name) => name in request.variables).map((name) => [name, request.variables[name]]),
  );

  const enqueue = (step: () => Promise<void> | void) => {
    tail = tail.then(step).catch((error: unknown) => {
      options.logger.error({ err: error }, 'subscription event processing failed');
    });
  };

  stopUpstream = options.upstream.subscribe(request.plan.primary, primaryVariables, {
    next: (event) => {
      if (!out.isOpen) return;
      if (processing + out.size >= options.maxBuffered) {
        out.fail(slowConsumer(options.maxBuffered));
        options.onOverflow();
        return;
      }
      processing++;
      enqueue(async () => {
        let result: ExecutionResult;
        try {
          result = await options.executeEvent(
            { ...request, context: { signedContext: options.signedContext(), requestId: request.requestId }, logger: options.logger },
            event,
          );
        } catch (error) {
          options.logger.error({ err: error }, 'could not execute a subscription event');
          result = { errors: [new GraphQLError('Unexpected error.', { extensions: { code: 'INTERNAL_SERVER_ERROR' } })] };
        } finally {
          processing--;
        }
        out.push(result);
      });
    },
    error: (errors) => {
      enqueue(() => {
        out.push({ errors });
        out.end();
      });
    },
    complete: () => enqueue(() => out.end()),
  });
  return out;
}
