import { createLogger, Lifecycle, refuseDevelopmentSecrets, startTracing, tracingSettingsOf, UnsafeDefaultsError } from '@beedesk/runtime';
import { startEmbedded } from './start';

// `npm start`: the whole platform in one process, no Redis or Kafka needed.
async function main(): Promise<void> {
  const logger = createLogger('beedesk', process.env.LOG_LEVEL ?? 'warn');
  const host = process.env.HOST || '127.0.0.1';
  const internalSecret = process.env.INTERNAL_SECRET || undefined;
  const unset = [...(internalSecret ? [] : ['INTERNAL_SECRET']), ...(process.env.JWT_SECRET ? [] : ['JWT_SECRET'])];
  refuseDevelopmentSecrets({ HOST: host, BEEDESK_DEV_DEPLOYMENT: process.env.BEEDESK_DEV_DEPLOYMENT === 'true' ? 'true' : 'false' }, unset);
  // Tracing as in real mode (OTEL_EXPORTER_OTLP_ENDPOINT); one process, so one service name for all five.
  const tracing = startTracing(tracingSettingsOf(process.env, 'beedesk'));
  const embedded = await startEmbedded({ logger, host, internalSecret, persistedOnly: process.env.GATEWAY_PERSISTED_ONLY === 'true' });
  const lifecycle = new Lifecycle(logger);
  lifecycle.onShutdown('tracing', () => tracing.shutdown());
  lifecycle.onShutdown('embedded', () => embedded.close());
  lifecycle.installSignalHandlers(25_000);
  const url = embedded.gatewayUrl;
  process.stdout.write(
    [
      '',
      `beedesk is running (embedded mode: in-process Redis and queue) — gateway ${url}`,
      `  subgraphs: ${Object.entries(embedded.ports)
        .filter(([n]) => n !== 'gateway')
        .map(([n, p]) => `${n} :${p}`)
        .join(', ')}`,
      `  demo tenants: ${embedded.seeded.map((s) => `${s.tenant} (${s.articles} articles)`).join(', ')}`,
      '',
      `Staff console: ${embedded.consoleUrl}  (development sign-in: pick a demo tenant and a role)`,
      '',
      'Open the chat widget in a browser, embedded in a demo page of each demo tenant:',
      ...embedded.demoPages.map((page) => `  ${page}`),
      '',
      'Get a token and ask a question (in another terminal):',
      '  TOKEN=$(npm run -s token -- --tenant demo-bank --user alice --role customer)',
      `  curl -s ${url} -H "authorization: Bearer $TOKEN" -H 'content-type: application/json' \\`,
      `    -d '{"query":"mutation { startSession { id } }"}'`,
      '',
      'See README.md for the full walk-through. Ctrl-C stops.',
      '',
    ].join('\n'),
  );
}

main().catch((error: unknown) => {
  process.stderr.write(`beedesk failed to start: ${(error as Error).message}\n`);
  process.exit(error instanceof UnsafeDefaultsError ? error.exitCode : 1);
});
