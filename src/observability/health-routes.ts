import { Router } from 'express';
import { IdpError } from '../core/errors.js';
import type { Directory } from '../directory/directory.js';
import type { KerberosStatus } from '../authn/kerberos/negotiate-acceptor.js';
import type { StateStore } from '../state/state-store.js';
import { daysUntilExpiry, EXPIRY_WARNING_DAYS, type KeyStore } from '../keys/key-store.js';

/**
 * /healthz: the process is alive (for restarts). /readyz: it can sign people in (for the load
 * balancer): a directory server answers, the state store (Redis) answers and the signing
 * certificate is valid. Details name what failed, never a secret.
 */
/** A directory check answers every /readyz for this long: probes cannot load the DCs. */
const DIRECTORY_CHECK_TTL_MS = 5_000;

export function healthRoutes(deps: { directory: Directory; keys: KeyStore; state: StateStore; kerberos?: { status(): KerberosStatus } | undefined }): Router {
  const router = Router();
  let lastCheck: { at: number; result: Promise<string | undefined> } | undefined;
  /** undefined when a directory server answers, else what went wrong (for the log). */
  const checkDirectory = (): Promise<string | undefined> => {
    if (!lastCheck || Date.now() - lastCheck.at > DIRECTORY_CHECK_TTL_MS) {
      const result = deps.directory.checkHealth().then(() => undefined, (err: unknown) => (err instanceof Error ? err.message : String(err)));
      lastCheck = { at: Date.now(), result };
    }
    return lastCheck.result;
  };
  router.get('/healthz', (_req, res) => {
    res.set('Cache-Control', 'no-store').json({ status: 'ok' });
  });
  router.get('/readyz', async (req, res) => {
    const checks: Record<string, { ok: boolean; detail?: string; daysLeft?: number }> = {};
    const failure = await checkDirectory();
    if (failure === undefined) {
      checks.directory = { ok: true };
    } else {
      checks.directory = { ok: false, detail: 'no directory server answers' };
      req.log.warn({ err: failure }, 'readiness: directory unavailable');
    }
    // No sign-in can start without the state store: a node that cannot reach Redis leaves the pool.
    if (deps.state.checkHealth) {
      const stateFailure = await deps.state.checkHealth().then(() => undefined, (err: unknown) => (err instanceof IdpError ? err.detail : String(err)));
      checks.state = stateFailure === undefined ? { ok: true } : { ok: false, detail: 'the state store (Redis) does not answer' };
      if (stateFailure !== undefined) req.log.warn({ err: stateFailure }, 'readiness: state store unavailable');
    }
    const daysLeft = Math.floor(daysUntilExpiry(deps.keys.current));
    const notYetValid = new Date(deps.keys.current.certificate.validFrom).getTime() > Date.now();
    checks.signingCertificate = { ok: daysLeft >= 0 && !notYetValid, daysLeft };
    // Entra's automatic rollover starts 35 days before expiry (§5.3): time to run `fedgate keys next`.
    if (daysLeft < EXPIRY_WARNING_DAYS) {
      checks.signingCertificate.detail = `expires in ${daysLeft} days: run fedgate keys next, publish, then promote`;
      req.log.warn({ daysLeft }, 'the token-signing certificate expires soon');
    }
    const ready = Object.values(checks).every((c) => c.ok);
    // Kerberos is reported, not required: without it everyone still reaches the password form.
    if (deps.kerberos) {
      const status = deps.kerberos.status();
      checks.kerberos = { ok: status.available, detail: status.detail };
    }
    res.status(ready ? 200 : 503).set('Cache-Control', 'no-store').json({ status: ready ? 'ready' : 'unavailable', checks });
  });
  return router;
}
