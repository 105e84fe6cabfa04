/**
 * SAML 2.0 SP-initiated sign-ons per second on ONE core without HTTP: what issue 5's figure can at
 * most be on this machine. Each sign-on is the work no HTTP server can avoid: the Redirect-binding
 * AuthnRequest (written by @node-saml/node-saml) read through the one hardened path (base64,
 * inflate, @xmldom/xmldom with no DTD, the SP's lookup, readAuthnRequest), then the signed Response
 * for a signed-in person (assertion in exclusive canonical form, one RSA-2048 signature). Prints
 * the RSA rate alone, each part's µs and the sign-ons per second; asserts nothing.
 *
 *   npx tsx bench/saml-sign-on.ts [seconds per measurement=3]
 */
import { generateKeyPairSync, sign } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { SAML } from '@node-saml/node-saml';
import { parseConfig } from '../src/config/load.js';
import { createLogger } from '../src/observability/logger.js';
import { readAuthnRequest } from '../src/protocols/saml/authn-request.js';
import { decodeSamlMessage } from '../src/protocols/saml/inbound-message.js';
import { createSamlIssuer } from '../src/protocols/saml/issue-response.js';
import { buildServices } from '../src/services.js';
import { DEMO_USERS_FILE } from '../src/cli/embedded-demo.js';

const seconds = Number(process.argv[2] ?? 3);
const BASE = 'http://127.0.0.1:8080';
const SP = { entityId: 'https://sp.bench.test/saml', acs: 'https://sp.bench.test/acs' };

const dir = mkdtempSync(join(tmpdir(), 'fedgate-saml-bench-'));
const config = parseConfig({
  server: { baseUrl: BASE }, dataDir: join(dir, 'data'), directory: { type: 'file', path: DEMO_USERS_FILE },
  relyingParties: [{ protocol: 'saml', identifier: SP.entityId, replyUrls: [SP.acs] }],
}, 'bench', dir, {});
const services = await buildServices(config, createLogger('silent', new Writable({ write(_c, _e, done) { done(); } })));
const issuer = createSamlIssuer({ keys: services.keys, nameIdSalt: services.samlNameIdSalt, netbiosDomain: undefined });
const sp = services.serviceProviders.get(SP.entityId)!;
const signedIn = await services.directory.authenticate('alice@demo.fedgate.test', 'Demo-alice-1');
if (signedIn.outcome !== 'success') throw new Error(signedIn.outcome);
const principal = { user: signedIn.user!, authentication: { kind: 'password' as const, instant: new Date().toISOString() } };

// A pool of real AuthnRequests (node-saml gives each a fresh ID), read in turn.
const node = new SAML({ entryPoint: `${BASE}/saml/sso`, issuer: SP.entityId, callbackUrl: SP.acs, idpCert: services.keys.current.certificateBase64 });
const queries = await Promise.all(Array.from({ length: 200 }, async () => new URL(await node.getAuthorizeUrlAsync('', undefined, {})).searchParams));
const endpointUrls = [`${BASE}/saml/sso`];

const read = (i: number) => {
  const query = queries[i % queries.length]!;
  const message = decodeSamlMessage({ binding: 'redirect', fields: Object.fromEntries(query), rawQuery: query.toString() }, 'SAMLRequest');
  const outcome = readAuthnRequest(message.root, sp, { endpointUrls, signed: false, relayState: undefined, now: Date.now() });
  if (outcome.kind !== 'sign-in') throw new Error(outcome.kind);
  return outcome.state;
};

async function rate(name: string, op: (i: number) => unknown): Promise<number> {
  for (let i = 0; i < 200; i++) await op(i);
  let n = 0;
  const start = performance.now();
  while (performance.now() - start < seconds * 1000) { await op(n); n++; }
  const perSecond = n / ((performance.now() - start) / 1000);
  console.log(`${name.padEnd(62)} ${perSecond.toFixed(0).padStart(6)}/s  ${(1e6 / perSecond).toFixed(0).padStart(5)} µs each`);
  return perSecond;
}

const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
await rate('RSA-2048 signature alone (one per Response)', () => sign('sha256', Buffer.from('x'), privateKey));
await rate('hardened read of a Redirect AuthnRequest', read);
const state = read(0);
await rate('signed Response for a signed-in person', () => issuer.success(principal, sp, state, 'sso-bench'));
await rate('both: a SAML sign-on without HTTP (the ceiling of issue 5\'s figure)', (i) => issuer.success(principal, sp, read(i), 'sso-bench'));

