import { Router } from 'express';
import type { Directory } from '../directory/directory.js';
import { daysUntilExpiry, type KeyStore } from '../keys/key-store.js';

/**
 * /healthz: the process is alive (for restarts). /readyz: it can sign people in (for the load
 * balancer): a directory server answers and the signing certificate is valid. Details name what
 * failed, never a secret.
 */
export function healthRoutes(deps: { directory: Directory; keys: KeyStore }): Router {
  const router = Router();
  router.get('/healthz', (_req, res) => {
    res.set('Cache-Control', 'no-store').json({ status: 'ok' });
  });
  router.get('/readyz', async (req, res) => {
    const checks: Record<string, { ok: boolean; detail?: string; daysLeft?: number }> = {};
    try {
      await deps.directory.checkHealth();
      checks.directory = { ok: true };
    } catch (err) {
      checks.directory = { ok: false, detail: 'no directory server answers' };
      req.log.warn({ err: err instanceof Error ? err.message : String(err) }, 'readiness: directory unavailable');
    }
    const daysLeft = Math.floor(daysUntilExpiry(deps.keys.current));
    const notYetValid = new Date(deps.keys.current.certificate.validFrom).getTime() > Date.now();
    checks.signingCertificate = { ok: daysLeft >= 0 && !notYetValid, daysLeft };
    const ready = Object.values(checks).every((c) => c.ok);
    res.status(ready ? 200 : 503).set('Cache-Control', 'no-store').json({ status: ready ? 'ready' : 'unavailable', checks });
  });
  return router;
}
