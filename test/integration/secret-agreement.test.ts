import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeServices } from '../../src/services.js';
import { startTestApp, type TestApp } from '../harness/app.js';
import { redisServer, type RedisServer } from '../harness/redis.js';
import { OIDC_CLIENTS } from '../protocols/oidc/oidc-harness.js';
import { samlSp } from '../protocols/saml/sp-client.js';

/**
 * Nodes on one Redis must derive the same identifiers: a node whose SAML persistent-ID salt or
 * OpenID Connect pairwise salt or cookie keys differ from the first node's refuses to start and
 * names the setting; with the same secrets it starts. Fingerprints only: no secret reaches Redis.
 */
let redis: RedisServer;
const started: TestApp[] = [];
beforeAll(async () => { redis = await redisServer(); });
afterAll(async () => {
  await Promise.all(started.map((t) => closeServices(t.services)));
  await redis.stop();
});

const SP = samlSp('sp-agree');
const node = async (extra: Record<string, unknown> = {}) => {
  const t = await startTestApp({ state: { type: 'redis', url: redis.url, keyPrefix: 'agree:' }, relyingParties: [SP.config, ...OIDC_CLIENTS], ...extra });
  started.push(t);
  return t;
};

describe('shared secrets across nodes', () => {
  it('a node with other secrets than the first refuses to start, naming the setting; with the same ones it starts', async () => {
    const first = await node();
    // Another dataDir: its generated salt differs.
    await expect(node()).rejects.toThrow(/saml\.persistentIdSalt differs from the one the other nodes on this Redis use/);
    const oidcFile = (name: string) => readFileSync(join(first.config.dataDir, 'oidc', name), 'utf8').trim();
    await expect(node({ saml: { persistentIdSalt: first.services.samlNameIdSalt } })).rejects.toThrow(/oidc\.pairwiseSalt differs/);
    await expect(node({ saml: { persistentIdSalt: first.services.samlNameIdSalt }, oidc: { pairwiseSalt: oidcFile('pairwise-salt') } }))
      .rejects.toThrow(/oidc\.cookieKeys differs/);
    const second = await node({ saml: { persistentIdSalt: first.services.samlNameIdSalt }, oidc: { pairwiseSalt: oidcFile('pairwise-salt'), cookieKeys: [oidcFile('cookie-key')] } });
    expect(second.services.samlNameIdSalt).toBe(first.services.samlNameIdSalt);
    // Cookie keys roll: a node that already has the next key in front of the shared one agrees.
    await node({ saml: { persistentIdSalt: first.services.samlNameIdSalt }, oidc: { pairwiseSalt: oidcFile('pairwise-salt'), cookieKeys: ['next-cookie-key-0123456789abcdefghijkl', oidcFile('cookie-key')] } });
    // What Redis holds is a fingerprint, not the secret.
    const { Redis } = await import('ioredis');
    const client = new Redis(redis.url);
    const keys = await client.keys('agree:secret-fingerprint:*');
    const values = await Promise.all(keys.map((k) => client.get(k)));
    await client.quit();
    expect(keys.sort()).toEqual(['agree:secret-fingerprint:oidc.cookieKeys', 'agree:secret-fingerprint:oidc.pairwiseSalt', 'agree:secret-fingerprint:saml.persistentIdSalt']);
    for (const value of values) expect(value).not.toContain(first.services.samlNameIdSalt);
  });
});
