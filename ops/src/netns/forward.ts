import { createConnection, createServer, type Server, type Socket } from 'node:net';

/**
 * A plain TCP relay: every connection to `listen` is piped to `target`. The network-cut scenario runs one
 * on each side of a veth pair, so a process inside a network namespace reaches the host's loopback-only
 * Redis, Kafka and LLM at the addresses it is configured with (Kafka advertises 127.0.0.1) while every
 * byte crosses the veth link — and stops crossing it when the link is cut.
 */
export interface Endpoint {
  host: string;
  port: number;
}

export async function forwardTcp(listen: Endpoint, target: Endpoint): Promise<Server> {
  const sockets = new Set<Socket>();
  const server = createServer((inbound) => {
    const outbound = createConnection(target);
    for (const socket of [inbound, outbound]) {
      sockets.add(socket);
      socket.once('close', () => sockets.delete(socket));
      // Either side failing ends both: the peer sees its connection reset, as with a real route gone.
      socket.once('error', () => (inbound.destroy(), outbound.destroy()));
    }
    inbound.pipe(outbound);
    outbound.pipe(inbound);
  });
  server.once('close', () => {
    for (const socket of sockets) socket.destroy();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(listen.port, listen.host, () => resolve());
  });
  return server;
}

function parse(text: string): Endpoint {
  const at = text.lastIndexOf(':');
  return { host: text.slice(0, at), port: Number(text.slice(at + 1)) };
}

/** `node forward.js <listenHost:port>=<targetHost:port> …`: relays until SIGTERM; prints `ready` once listening. */
async function main(pairs: string[]): Promise<void> {
  const servers = await Promise.all(
    pairs.map((pair) => {
      const [listen, target] = pair.split('=');
      return forwardTcp(parse(listen!), parse(target!));
    }),
  );
  process.stdout.write('ready\n');
  process.once('SIGTERM', () => {
    for (const server of servers) server.close();
    process.exit(0);
  });
}

if (require.main === module) {
  main(process.argv.slice(2)).catch((error: unknown) => {
    process.stderr.write(`${(error as Error).message}\n`);
    process.exit(1);
  });
}
