import { createServer, type Server } from 'node:http';
import type { ConsoleConfig } from '@beedesk/console';
import { consoleRoutes } from '../../src/web/console';

/**
 * The console's routes (the built app, its config, the development sign-in) on their own port, the way the
 * embedded default serves them inside its gateway; here the real-mode gateway is another origin (it lets
 * this one in with CORS_ORIGINS), so the app is configured with its graphqlUrl.
 */
export async function startConsoleServer(
  port: number,
  config: ConsoleConfig,
  jwtSecret: string,
): Promise<{ url: string; close(): Promise<void> }> {
  const routes = consoleRoutes({ config, jwtSecret });
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', `http://${req.headers.host ?? '127.0.0.1'}`);
    if (!routes.some((serve) => serve(req, res, url))) {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('not found');
    }
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${port}/console/`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
