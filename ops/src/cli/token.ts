import { isRole, isTenantId, type Role } from '@beedesk/runtime';
import { mintToken } from '@beedesk/gateway';

const USAGE = 'usage: npm run token -- --tenant <id> --user <id> --role customer|agent|admin [--role …] [--ttl <seconds>]';

function parseArgs(argv: string[]): { tenant: string; user: string; roles: Role[]; ttlSeconds: number } {
  const out = { tenant: 'demo-bank', user: 'demo-user', roles: [] as Role[], ttlSeconds: 24 * 3600 };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const value = argv[++i];
    if (value === undefined) throw new Error(`${flag} needs a value`);
    if (flag === '--tenant') out.tenant = value;
    else if (flag === '--user') out.user = value;
    else if (flag === '--role' || flag === '--roles') {
      for (const role of value.split(',')) {
        if (!isRole(role)) throw new Error(`unknown role ${role}`);
        out.roles.push(role);
      }
    } else if (flag === '--ttl') out.ttlSeconds = Number(value);
    else throw new Error(`unknown argument ${flag}`);
  }
  if (!isTenantId(out.tenant)) throw new Error(`bad tenant id ${out.tenant}: lower-case letters, digits and dashes`);
  if (!Number.isInteger(out.ttlSeconds) || out.ttlSeconds <= 0) throw new Error('--ttl must be a positive whole number of seconds');
  if (out.roles.length === 0) out.roles.push('customer');
  return out;
}

async function main(): Promise<void> {
  let args;
  try {
    args = parseArgs(process.argv.slice(2));
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n${USAGE}\n`);
    process.exit(2);
  }
  process.stdout.write(`${await mintToken({ tenant: args.tenant, user: args.user, roles: args.roles, ttlSeconds: args.ttlSeconds })}\n`);
}

void main();
