// The images' HEALTHCHECK: GET the service's liveness endpoint on its own port. /health/live where the
// service serves it, else /health (older builds). Exit 0 healthy, 1 not.
'use strict';
const port = process.env.PORT ?? '4000';
const get = (path) => fetch(`http://127.0.0.1:${port}${path}`, { signal: AbortSignal.timeout(2500) }).then((res) => res.status);
get('/health/live')
  .then((status) => (status === 404 ? get('/health') : status))
  .then((status) => process.exit(status === 200 ? 0 : 1))
  .catch(() => process.exit(1));
