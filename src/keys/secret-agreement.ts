import { createHmac } from 'node:crypto';
import type { Config } from '../config/schema.js';
import { constantTimeEqual } from '../core/constant-time.js';
import { IdpError } from '../core/errors.js';
import { loadProviderSecrets } from '../protocols/oidc/provider-secrets.js';
import type { StateStore } from '../state/state-store.js';
import { generatedSecret } from './generated-secret.js';

/**
 * Nodes sharing one Redis must hold the same secrets where identifiers are derived from them:
 * with another saml.persistentIdSalt a node gives the same person another persistent NameID (the
 * SP sees a stranger), with another oidc.pairwiseSalt another `sub`, with other oidc.cookieKeys
 * it cannot read the provider cookies the other nodes set. Each node records a fingerprint of each
 * secret the first time and compares it at every start: a node that differs refuses to start and
 * names the setting, instead of quietly handing out identities that change with the node.
 *
 * The fingerprint is an HMAC keyed by the secret over a fixed label, so the store never holds
 * anything that helps guess the secret. Kept for a year and refreshed at each start (every key in
 * the store has a lifetime).
 */
const FINGERPRINT_TTL_MS = 365 * 86_400_000;

/**
 * The secrets identifiers are derived from, by the setting that configures each, for the protocols
 * in use; generated once under dataDir when not configured. A cluster primary calls this before
 * it forks, so that its workers find the files instead of racing to write them.
 */
export function derivationSecrets(config: Config): Record<string, readonly string[]> {
  const secrets: Record<string, readonly string[]> = {};
  // Only for the protocols configured: a WS-Fed-only installation gets no file it does not use.
  if (config.relyingParties.some((rp) => rp.protocol === 'saml')) {
    secrets['saml.persistentIdSalt'] = [config.saml.persistentIdSalt ?? generatedSecret(config.dataDir, 'saml', 'persistent-id-salt')];
  }
  if (config.relyingParties.some((rp) => rp.protocol === 'oidc')) {
    const oidc = loadProviderSecrets(config.oidc, config.dataDir);
    secrets['oidc.pairwiseSalt'] = [oidc.pairwiseSalt];
    // Keys roll: a node with [new, old] and one with [old] agree (the provider reads either's cookies).
    secrets['oidc.cookieKeys'] = oidc.cookieKeys;
  }
  return secrets;
}

export function secretFingerprint(name: string, secret: string): string {
  return createHmac('sha256', secret).update(`fedgate shared-secret fingerprint\n${name}`).digest('base64url').slice(0, 22);
}

/**
 * `secrets`: setting name → its value(s), for the settings in use. Nodes agree on a setting when
 * they share at least one value (one for a salt; a rolling list of cookie keys overlaps). Throws a
 * configuration error naming the first setting that does not agree.
 */
export async function checkSecretAgreement(store: StateStore, secrets: Readonly<Record<string, readonly string[]>>): Promise<void> {
  for (const [name, values] of Object.entries(secrets)) {
    const key = `secret-fingerprint:${name}`;
    const mine = values.map((value) => secretFingerprint(name, value));
    if (await store.setIfAbsent(key, mine, FINGERPRINT_TTL_MS)) continue;
    const recorded = await store.get<string[]>(key);
    const agree = !Array.isArray(recorded) || recorded.some((r) => typeof r === 'string' && mine.some((m) => constantTimeEqual(r, m)));
    if (!agree) {
      throw new IdpError('configuration', `This node's ${name} differs from the one the other nodes on this Redis use.`,
        `${name}: give every node the same value (configure it, or copy it from the first node's dataDir)`);
    }
    await store.set(key, mine, FINGERPRINT_TTL_MS);
  }
}
