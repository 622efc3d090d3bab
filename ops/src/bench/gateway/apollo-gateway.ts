/**
 * The `apollo` peer of the benchmark: plain @apollo/gateway inside @apollo/server's standalone server,
 * default settings, serving a supergraph file: `node apollo-gateway.js --supergraph <file> --port <port>`.
 */
import { readFileSync } from 'node:fs';
import { ApolloGateway } from '@apollo/gateway';
import { ApolloServer } from '@apollo/server';
import { startStandaloneServer } from '@apollo/server/standalone';
import { argValue, exitWithParent, HOST } from './proc';

async function main(): Promise<void> {
  const file = argValue(process.argv, '--supergraph');
  const port = Number(argValue(process.argv, '--port'));
  if (!file || !Number.isInteger(port) || port <= 0) {
    console.error('usage: apollo-gateway --supergraph <file> --port <port>');
    process.exit(2);
  }
  const gateway = new ApolloGateway({ supergraphSdl: readFileSync(file, 'utf8') });
  const server = new ApolloServer({ gateway });
  exitWithParent();
  const { url } = await startStandaloneServer(server, { listen: { port, host: HOST } });
  console.log(`apollo gateway ready at ${url}`);
}

if (require.main === module) {
  main().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
