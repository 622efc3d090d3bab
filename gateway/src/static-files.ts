import { createReadStream, statSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, resolve, sep } from 'node:path';
import type { HttpRoute } from './server';

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.mp3': 'audio/mpeg',
  '.wav': 'audio/wav',
};

export interface StaticFilesOptions {
  /** Served for a request to the prefix itself or to a path without a file extension (a single-page app). */
  index?: string;
  /** Extra response headers, e.g. a Content-Security-Policy for the app's pages. */
  headers?: Record<string, string>;
  /** Cache-Control for files other than the index (default: no-cache, the embedded default rebuilds often). */
  cacheControl?: string;
}

/**
 * A GET/HEAD route serving the files of one directory under a URL prefix (the staff console, and the
 * embedded default's widget and demo pages). Hand-written rather than a static-file library: twenty lines over node:fs cover what the
 * built bundles need, and paths are resolved inside `dir` so `..` can never leave it.
 */
export function staticFiles(prefix: string, dir: string, options: StaticFilesOptions = {}): HttpRoute {
  const root = resolve(dir);
  const base = prefix.endsWith('/') ? prefix : `${prefix}/`;
  return (req: IncomingMessage, res: ServerResponse, url: URL): boolean => {
    const path = url.pathname;
    if (path !== base.slice(0, -1) && !path.startsWith(base)) return false;
    if (req.method !== 'GET' && req.method !== 'HEAD') return false;
    let relative: string;
    try {
      relative = decodeURIComponent(path.slice(base.length));
    } catch {
      return false;
    }
    const wantsIndex = options.index !== undefined && (relative === '' || extname(relative) === '');
    const file = resolve(root, wantsIndex ? options.index! : relative);
    if (file !== root && !file.startsWith(root + sep)) return false;
    let size: number;
    try {
      const stat = statSync(file);
      if (!stat.isFile()) return false;
      size = stat.size;
    } catch {
      return false;
    }
    res.writeHead(200, {
      'content-type': CONTENT_TYPES[extname(file)] ?? 'application/octet-stream',
      'content-length': String(size),
      'cache-control': wantsIndex ? 'no-cache' : (options.cacheControl ?? 'no-cache'),
      'x-content-type-options': 'nosniff',
      ...options.headers,
    });
    if (req.method === 'HEAD') res.end();
    else createReadStream(file).pipe(res);
    return true;
  };
}
