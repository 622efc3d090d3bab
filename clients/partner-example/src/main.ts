import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runPartnerExample } from './example';
import type { PersistedQueryManifest } from './persisted-client';

// `BEEDESK_API_KEY=bdk_… node dist/main.js "where is my card?"`
const apiKey = process.env.BEEDESK_API_KEY;
if (!apiKey) {
  process.stderr.write('Set BEEDESK_API_KEY to a partner API key (an admin creates one with `createApiKey`).\n');
  process.exit(2);
}
const url = process.env.BEEDESK_URL ?? 'http://127.0.0.1:4000/graphql';
const manifestPath = process.env.BEEDESK_MANIFEST ?? join(__dirname, '..', '..', '..', 'schema', 'persisted-operations.json');
const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as PersistedQueryManifest;
const question = process.argv[2] ?? 'My card has not arrived yet';

runPartnerExample({ url, apiKey, manifest, question }).then(
  ({ tenant, answer }) => {
    process.stdout.write(
      `${JSON.stringify({ tenant: tenant.id, status: answer.status, text: answer.text, sources: answer.sources.map((s) => s.title) })}\n`,
    );
  },
  (error: Error & { code?: string }) => {
    process.stderr.write(`partner example failed: ${error.code ?? ''} ${error.message}\n`);
    process.exit(1);
  },
);
