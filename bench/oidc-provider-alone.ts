/**
 * The ceiling oidc-provider itself puts on issue 6's figure: the library alone (its own memory
 * adapter, no fedgate around it: no directory, sessions, logs or metrics) answering the same flow
 * as bench/signin.ts's "OIDC code flow + PKCE, signed-in user" case: /auth with an existing session
 * (the code by redirect), then /token (code + PKCE + client_secret_basic: an RS256 ID token and an
 * access token). Prints flows per CPU-second of the provider's process, with this machine's
 * RSA-2048 rate for scale. Asserts nothing.
 *
 *   npx tsx bench/oidc-provider-alone.ts [--seconds 5] [--concurrency 16]
 */
import { fork } from 'node:child_process';
import { createHash, generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';

const REDIRECT = 'https://bench.test/callback';
const CLIENT = { client_id: 'bench', client_secret: 'bench-secret-0123456789abcdef' };

if (process.env.OIDC_ALONE_SERVER) {
  const { default: Provider } = await import('oidc-provider');
  const jwk = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' });
  const provider = new Provider('http://127.0.0.1/oidc', {
    clients: [{ ...CLIENT, redirect_uris: [REDIRECT], grant_types: ['authorization_code'], response_types: ['code'] }],
    jwks: { keys: [{ ...jwk, kid: 'rs', alg: 'RS256', use: 'sig' }] },
    cookies: { keys: ['a-cookie-key-0123456789'] },
    features: { devInteractions: { enabled: false } },
    ttl: { Session: 3600, Interaction: 600, Grant: 3600, AccessToken: 3600, IdToken: 3600, AuthorizationCode: 60 },
    findAccount: async (_ctx: unknown, sub: string) => ({ accountId: sub, claims: () => ({ sub }) }),
    // Consent is implied, as for fedgate's first-party clients.
    loadExistingGrant: async (ctx: { oidc: { client: { clientId: string }; session: { accountId: string; grantIdFor(id: string): string | undefined }; provider: InstanceType<typeof Provider> } }) => {
      const id = ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
      if (id) return ctx.oidc.provider.Grant.find(id);
      const grant = new ctx.oidc.provider.Grant({ clientId: ctx.oidc.client.clientId, accountId: ctx.oidc.session.accountId });
      grant.addOIDCScope('openid');
      await grant.save();
      return grant;
    },
    interactions: { url: (_ctx: unknown, interaction: { uid: string }) => `/interaction/${interaction.uid}` },
  } as never);
  const callback = provider.callback();
  const server = createServer(async (req: IncomingMessage, res: ServerResponse) => {
    // The first flow of each client signs in here once; the measured flows never come here.
    if (req.url!.startsWith('/interaction/')) {
      const url = await provider.interactionResult(req, res, { login: { accountId: 'alice' } });
      res.writeHead(303, { location: url }).end();
      return;
    }
    callback(req, res);
  });
  process.on('SIGTERM', () => process.exit(0));
  server.listen(0, '127.0.0.1', () => process.send!((server.address() as AddressInfo).port));
} else {
  const { values: a } = parseArgs({ options: { seconds: { type: 'string', default: '5' }, concurrency: { type: 'string', default: '16' } } });
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  let signatures = 0;
  for (const until = performance.now() + 1000; performance.now() < until; signatures++) sign('sha256', Buffer.from('x'), privateKey);
  console.log(`RSA-2048 signatures alone, this process, this minute: ${signatures}/s (each flow's ID token needs one)`);

  const child = fork(new URL(import.meta.url).pathname, [], { env: { ...process.env, OIDC_ALONE_SERVER: '1' }, execArgv: ['--import', 'tsx', ...(process.env.PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.PROF}`] : [])] });
  const port = await new Promise<number>((resolve) => child.once('message', (m) => resolve(m as number)));
  const base = `http://127.0.0.1:${port}`;
  const cpu = () => {
    const fields = readFileSync(`/proc/${child.pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  };
  type Jar = Map<string, string>;
  const flow = async (jar: Jar) => {
    const verifier = randomBytes(32).toString('base64url');
    let url = `/auth?${new URLSearchParams({ client_id: CLIENT.client_id, response_type: 'code', redirect_uri: REDIRECT, scope: 'openid', state: 's', nonce: randomBytes(8).toString('hex'),
      code_challenge: createHash('sha256').update(verifier).digest('base64url'), code_challenge_method: 'S256' })}`;
    let requests = 0;
    while (!url.startsWith(REDIRECT)) {
      const res = await fetch(base + url.replace(base, ''), { redirect: 'manual', headers: { cookie: [...jar].map(([k, v]) => `${k}=${v}`).join('; ') } });
      requests++;
      for (const line of res.headers.getSetCookie()) {
        const [pair] = line.split(';');
        jar.set(pair!.slice(0, pair!.indexOf('=')), pair!.slice(pair!.indexOf('=') + 1));
      }
      await res.arrayBuffer();
      url = res.headers.get('location') ?? '';
      if (!url) throw new Error(`the flow stopped with ${res.status}`);
    }
    const token = await fetch(`${base}/token`, {
      method: 'POST', body: new URLSearchParams({ grant_type: 'authorization_code', code: new URL(url).searchParams.get('code')!, redirect_uri: REDIRECT, code_verifier: verifier }),
      headers: { authorization: `Basic ${Buffer.from(`${CLIENT.client_id}:${CLIENT.client_secret}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
    });
    if (!((await token.json()) as { id_token?: string }).id_token) throw new Error('no ID token');
    return requests + 1;
  };
  const jars: Jar[] = Array.from({ length: Number(a.concurrency) }, () => new Map());
  for (const jar of jars) await flow(jar); // each client signs in once
  const perFlow = await flow(jars[0]!);
  const before = cpu();
  const until = performance.now() + Number(a.seconds) * 1000;
  let flows = 0;
  await Promise.all(jars.map(async (jar) => { while (performance.now() < until) { await flow(jar); flows++; } }));
  const used = cpu() - before;
  console.log(`oidc-provider alone, code flow + PKCE for a signed-in user (${perFlow} requests): ${(flows / used).toFixed(0)} per provider CPU-second (${flows} flows)`);
  child.kill('SIGTERM');
}
