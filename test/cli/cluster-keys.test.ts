import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseSigningKey } from '../../src/keys/key-store.js';
import { redisServer, type RedisServer } from '../harness/redis.js';
import { isSignInForm, openLoginForm } from '../http/sign-in-flow.js';
import { assertionOf, readAutopost, xmlsec1Verifies } from '../protocols/wsfed/autopost.js';
import { certBase64, fedgate } from './cli-fixture.js';
import { clusterConfig, get, randomPort, startCluster, stop } from './cluster-process.js';

/**
 * A key rollover reaches running workers without a restart: `fedgate keys next` and `promote`,
 * run by an operator against the files of a running `fedgate serve --workers 2`, show in both
 * workers' metadata and in the tokens they sign within a few seconds (the files are polled every 2 s).
 */
let redis: RedisServer;
beforeAll(async () => { redis = await redisServer(); });
afterAll(() => redis.stop());

const APP = { protocol: 'wsfed', identifier: 'urn:test:app', replyUrls: ['https://app.test/signin-wsfed'] };
const METADATA = '/FederationMetadata/2007-06/FederationMetadata.xml';

/** The certificates a metadata document lists (each also the signature's KeyInfo when current). */
const certificatesIn = (xml: string) => new Set([...xml.matchAll(/<X509Certificate>([^<]+)<\/X509Certificate>/g)].map((m) => m[1]));

describe('key rollover under running workers', () => {
  it('keys next, then promote: both workers publish, then sign with, the new key, without a restart', async () => {
    const port = randomPort();
    const config = clusterConfig(port, redis.url, { relyingParties: [APP] });
    const signing = join(config, '..', 'data', 'signing');
    const served = await startCluster(config, port);
    const workers = served.listening();
    const first = certBase64(join(signing, 'current-cert.pem'));
    /** What 6 requests, on new connections so on both workers, all list. */
    const metadataOfAll = async () => {
      const answers = await Promise.all(Array.from({ length: 6 }, () => get(port, METADATA)));
      return answers.map((a) => [...certificatesIn(a.body)].sort().join(' '));
    };
    expect(new Set(await metadataOfAll())).toEqual(new Set([first]));

    expect(fedgate('keys', 'next', '--config', config).status).toBe(0);
    const next = certBase64(join(signing, 'next-cert.pem'));
    const both = [first, next].sort().join(' ');
    await expect.poll(metadataOfAll, { timeout: 10_000, interval: 250 }).toEqual(Array(6).fill(both));

    expect(fedgate('keys', 'promote', '--config', config).status).toBe(0);
    await expect.poll(metadataOfAll, { timeout: 10_000, interval: 250 }).toEqual(Array(6).fill(next));

    // A token signed now, by whichever worker, carries and verifies with the promoted key.
    const agent = request.agent(`http://127.0.0.1:${port}`);
    const start = `/adfs/ls/?wa=wsignin1.0&wtrealm=${encodeURIComponent(APP.identifier)}`;
    const { pending, csrf } = await openLoginForm(agent, start);
    const posted = await agent.post('/login').type('form').send({ pending, csrf, UserName: 'alice@demo.fedgate.test', Password: 'Demo-alice-1' });
    // The form's POST is answered with the auto-post page itself.
    expect(posted.status, posted.text).toBe(200);
    expect(isSignInForm(posted), 'the token page, not the form again').toBe(false);
    const form = readAutopost(posted.text);
    const assertion = assertionOf(form.fields.wresult!);
    expect(certificatesIn(assertion)).toEqual(new Set([next]));
    const promoted = parseSigningKey(readFileSync(join(signing, 'current-key.pem'), 'utf8'), readFileSync(join(signing, 'current-cert.pem'), 'utf8'), 'promoted');
    expect(xmlsec1Verifies(assertion, promoted)).toBe(true);

    // The same two workers did it all, and each said so.
    expect(served.listening()).toEqual(workers);
    const reloaded = served.lines().filter((l) => l.msg === 'token-signing keys reloaded: the key files changed');
    expect(new Set(reloaded.map((l) => l.pid))).toEqual(new Set(workers));
    expect(await stop(served)).toBe(0);
  });
});
