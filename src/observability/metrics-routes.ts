import { Router, type Request } from 'express';
import type { Config } from '../config/schema.js';
import { createNetworkTest } from '../http/client-network.js';
import { requestContext } from '../http/request-context.js';
import type { Metrics } from './metrics.js';

/** Loopback can always read /metrics (a Prometheus or an agent on the same host). */
const LOOPBACK = ['127.0.0.0/8', '::1'];

/**
 * A request relayed by a proxy that server.trustProxy does not trust: Express left req.ip at the
 * proxy's address, so the client is unknown. Behind a reverse proxy on the same host, every
 * client would otherwise look like loopback.
 */
const untrustedForward = (req: Request) =>
  (req.headers['x-forwarded-for'] !== undefined || req.headers.forwarded !== undefined) && req.ip === req.socket.remoteAddress;

export interface MetricsRouteOptions {
  /** Where the text comes from (a cluster worker asks the primary for every worker's); this app's registry by default. */
  readonly source?: () => Promise<string>;
}

/**
 * GET /metrics in Prometheus text format, for loopback and metrics.allow only (the client address
 * as everything else sees it: req.ip under server.trustProxy). Nothing when metrics are disabled
 * (the 404 of any unknown path).
 */
export function metricsRoutes(config: Config, metrics: Metrics, options: MetricsRouteOptions = {}): Router {
  const router = Router();
  if (!config.metrics.enabled) return router;
  const allowed = createNetworkTest([...LOOPBACK, ...config.metrics.allow]);
  router.get('/metrics', async (req, res) => {
    res.set('Cache-Control', 'no-store');
    const { clientIp } = requestContext(req);
    if (!allowed(clientIp) || untrustedForward(req)) {
      req.log.warn({ clientIp }, 'metrics: refused to an address outside metrics.allow');
      res.status(403).type('text/plain').send('Forbidden\n');
      return;
    }
    const registry = metrics.withProcessMetrics();
    const text = options.source ? await options.source() : await registry.metrics();
    res.type(registry.contentType).send(text);
  });
  return router;
}
