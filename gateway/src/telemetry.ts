import { boundedLabel, observeWithExemplar } from '@beedesk/runtime';
import { Counter, Histogram, type Registry, type RegistryContentType } from 'prom-client';

/** Operation types as metric labels (anything else: `unknown`, never the operation's text or name). */
export type OperationType = 'query' | 'mutation' | 'subscription' | 'unknown';
/** Phases of a GraphQL request at the gateway: admission (authenticate … admitted), planning, execution. */
export type Phase = 'admission' | 'plan' | 'execute';

/**
 * The gateway's GraphQL metrics. Labels are bounded: operation type, phase, subgraph name (from the
 * supergraph), an outcome from a fixed set, and the tenant only on the per-tenant request counter,
 * limited to `maxTenants` tenants per process (the rest count as `other`). Latency histograms carry
 * the active trace as an exemplar.
 */
export interface GatewayTelemetry {
  /** A whole GraphQL request (HTTP, or one subscription's start): admission to response. */
  request(type: OperationType, outcome: 'ok' | 'error', seconds: number, tenant: string | null): void;
  phase(phase: Phase, seconds: number): void;
  fetch(subgraph: string, seconds: number, outcome: FetchOutcome): void;
  subscriptionEvent(seconds: number): void;
}

export type FetchOutcome = 'ok' | 'graphql_error' | 'http_error' | 'network_error';

const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export function createGatewayTelemetry(registry: Registry<RegistryContentType>, maxTenants = 100): GatewayTelemetry {
  const registers = [registry];
  const requestSeconds = new Histogram({
    name: 'beedesk_gateway_graphql_request_duration_seconds',
    help: 'GraphQL requests at the gateway, from admission to the response (subscriptions: until started)',
    labelNames: ['operation_type', 'outcome'],
    buckets: LATENCY_BUCKETS,
    registers,
    enableExemplars: true,
  });
  const tenantRequests = new Counter({
    name: 'beedesk_gateway_graphql_requests_total',
    help: `GraphQL requests per tenant (the first ${maxTenants} tenants seen by this process; later ones as "other")`,
    labelNames: ['tenant', 'operation_type', 'outcome'],
    registers,
  });
  const phaseSeconds = new Histogram({
    name: 'beedesk_gateway_graphql_phase_duration_seconds',
    help: 'Time per phase of a GraphQL request: admission (authentication … limits), plan (query planning, cache misses only), execute',
    labelNames: ['phase'],
    buckets: LATENCY_BUCKETS,
    registers,
    enableExemplars: true,
  });
  const fetchSeconds = new Histogram({
    name: 'beedesk_gateway_subgraph_fetch_duration_seconds',
    help: 'Subgraph fetches (HTTP) made by the gateway',
    labelNames: ['subgraph'],
    buckets: LATENCY_BUCKETS,
    registers,
    enableExemplars: true,
  });
  const fetchErrors = new Counter({
    name: 'beedesk_gateway_subgraph_fetch_errors_total',
    help: 'Subgraph fetches that failed: graphql_error (a result with errors), http_error (no GraphQL result), network_error',
    labelNames: ['subgraph', 'reason'],
    registers,
  });
  const eventSeconds = new Histogram({
    name: 'beedesk_gateway_subscription_event_duration_seconds',
    help: 'Time to turn one upstream subscription event into the client result (entity fetches included)',
    buckets: LATENCY_BUCKETS,
    registers,
    enableExemplars: true,
  });
  const tenantLabel = boundedLabel(maxTenants);
  return {
    request(type, outcome, seconds, tenant) {
      observeWithExemplar(requestSeconds, { operation_type: type, outcome }, seconds);
      if (tenant !== null) tenantRequests.inc({ tenant: tenantLabel(tenant), operation_type: type, outcome });
    },
    phase: (phase, seconds) => observeWithExemplar(phaseSeconds, { phase }, seconds),
    fetch(subgraph, seconds, outcome) {
      observeWithExemplar(fetchSeconds, { subgraph }, seconds);
      if (outcome !== 'ok') fetchErrors.inc({ subgraph, reason: outcome });
    },
    subscriptionEvent: (seconds) => observeWithExemplar(eventSeconds, {}, seconds),
  };
}

/** For code paths built without metrics (unit tests, benches of one part). */
export const NO_TELEMETRY: GatewayTelemetry = {
  request: () => undefined,
  phase: () => undefined,
  fetch: () => undefined,
  subscriptionEvent: () => undefined,
};
