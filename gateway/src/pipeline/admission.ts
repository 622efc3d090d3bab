import type { Authentication, Credentials } from '../caller';
import type { GraphQLParams } from '../graphql-request';
import type {
  AdmissionPlugin,
  AdmittedConnection,
  AdmittedOperation,
  DocumentSource,
  Release,
  ScheduledOperation,
  ScheduleInput,
  Transport,
} from './plugin';
import { refusal, type Refusal } from './refusal';

const isRefusal = (value: unknown): value is Refusal => typeof value === 'object' && value !== null && (value as Refusal).ok === false;

const noSignedContext = (): string => {
  throw new Error('no useSignedContext in the admission pipeline');
};

/**
 * The one admission pipeline: every transport (HTTP, SSE, graphql-ws) runs the same ordered list of
 * plugins (see AdmissionPlugin for the phases) and only adapts I/O: HTTP calls `connect`, `request`,
 * reads the body, then `operation`; graphql-ws calls `connect` at connection_init, and `request` +
 * `operation` for every subscribe.
 */
export function createAdmission(plugins: readonly AdmissionPlugin[]) {
  const withHook = <K extends keyof AdmissionPlugin>(hook: K) => plugins.filter((p) => p[hook] !== undefined);
  const authenticators = withHook('onAuthenticate');
  const connected = withHook('onConnected');
  const requests = withHook('onRequest');
  const paramChecks = withHook('onParams');
  const resolvers = withHook('onResolveDocument');
  const preparers = withHook('onPrepare');
  const operationChecks = withHook('onOperation');
  const admittedSteps = withHook('onAdmitted');
  const schedulers = withHook('onSchedule');

  return {
    plugins: plugins.map((p) => p.name),

    /** Who is calling: once per HTTP request, once per graphql-ws connection. */
    async connect(
      transport: Transport,
      credentials: Credentials,
      requestId: string,
    ): Promise<({ ok: true } & AdmittedConnection) | Refusal> {
      let authentication: Authentication | null = null;
      for (const plugin of authenticators) {
        const answer = await plugin.onAuthenticate!({ transport, credentials, requestId });
        if (isRefusal(answer)) return answer;
        if (answer) {
          authentication = answer;
          break;
        }
      }
      // Generic mode is chosen explicitly (useAuthentication({ kind: 'generic' })), never by a missing plugin.
      if (!authentication) throw new Error('no plugin of the admission pipeline identified the caller (useAuthentication)');
      const connection: { ok: true } & AdmittedConnection = {
        ok: true,
        ...authentication,
        transport,
        signedContext: noSignedContext,
      };
      for (const plugin of connected) plugin.onConnected!(connection);
      return connection;
    },

    /** One operation request of the connection, before its body is read: rate limits. */
    async request(connection: AdmittedConnection): Promise<Refusal | null> {
      for (const plugin of requests) {
        const refused = await plugin.onRequest!(connection);
        if (refused) return refused;
      }
      return null;
    },

    /**
     * The operation the request may run: document resolved, parsed, validated, checked, admitted; then
     * its turn to execute. The caller must call `release` of the answer once the operation has executed.
     */
    async operation(
      connection: AdmittedConnection,
      params: GraphQLParams,
      input: ScheduleInput = {},
    ): Promise<ScheduledOperation | Refusal> {
      for (const plugin of paramChecks) {
        const refused = await plugin.onParams!(connection, params);
        if (refused) return refused;
      }
      let source: DocumentSource | undefined;
      for (const plugin of resolvers) {
        const answer = await plugin.onResolveDocument!(connection, params);
        if (isRefusal(answer)) return answer;
        if (answer) {
          source = answer;
          break;
        }
      }
      source ??= params.query === undefined ? undefined : { query: params.query };
      if (!source) return refusal(400, 'BAD_REQUEST', 'A `query` string is required.');
      let admitted: AdmittedOperation | undefined;
      for (const plugin of preparers) {
        const answer = await plugin.onPrepare!(connection, source, params);
        if (isRefusal(answer)) return answer;
        if (answer) {
          admitted = answer;
          break;
        }
      }
      if (!admitted) throw new Error('no plugin of the admission pipeline prepares documents (useDocument)');
      for (const plugin of operationChecks) {
        const refused = await plugin.onOperation!(connection, admitted, params);
        if (refused) return refused;
      }
      for (const plugin of admittedSteps) {
        const refused = await plugin.onAdmitted!(connection, admitted, source);
        if (refused) return refused;
      }
      const releases: Release[] = [];
      const releaseAll: Release = () => {
        for (const release of releases.splice(0)) release();
      };
      for (const plugin of schedulers) {
        const answer = await plugin.onSchedule!(connection, admitted, input);
        if (isRefusal(answer)) {
          releaseAll();
          return answer;
        }
        if (answer) releases.push(answer);
      }
      return { ...admitted, release: releaseAll };
    },
  };
}
export type Admission = ReturnType<typeof createAdmission>;
