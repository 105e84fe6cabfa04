/**
 * The floor: the least a WS-Fed sign-in costs on this machine with the parts the design requires
 * and nothing else. bench/signin.ts --floor drives it with the same client and the same requests
 * as fedgate (the form at Entra's redirect, the POST to /login, the token for a signed-in user),
 * so the two figures can be read side by side against this minute's RSA rate.
 *
 * What it keeps: node:http; ldapts against the same slapd (a search on a pooled service
 * connection, then the user's bind on a pooled bind connection); the pending sign-in and the CSRF
 * token checked in constant time; a random session id in a cookie; fedgate's own token writer
 * (the SAML 1.1 assertion written canonical, one RSA signature, the RSTR) and an auto-post page.
 * What it leaves out is everything else fedgate does on those requests: Express, logs and audit
 * events, metrics, rate limits and smart lockout, account state and groups, claims rules,
 * security headers, the state store's TTLs, error pages. A bench fixture: not part of fedgate.
 */
import { randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Client, EqualityFilter } from 'ldapts';
import { generateSigningCertificate } from '../src/keys/generate-certificate.js';
import { parseSigningKey } from '../src/keys/key-store.js';
import { writeRstr } from '../src/protocols/wsfed/rstr.js';
import { writeSignedSaml11Assertion } from '../src/protocols/wsfed/saml11-assertion.js';

interface Principal { readonly upn: string; readonly immutableId: string; readonly instant: Date }

const REPLY = 'https://login.microsoftonline.com/login.srf';
const POOL = 8;

/** The session cookie every floor process knows (bench --cores --floor: no state is shared between them). */
export const FLOOR_SESSION = 'floor_session=bench-signed-in';

export async function startFloorServer(slapdUrl: string, port = 0): Promise<{ port: number; cert: string }> {
  const { keyPem, certPem } = await generateSigningCertificate('floor.bench.test', 86_400_000);
  const key = parseSigningKey(keyPem, certPem, 'floor');
  const connect = async (bind: boolean) => {
    const client = new Client({ url: slapdUrl });
    if (bind) await client.bind('cn=admin,dc=example,dc=test', 'adminpw');
    return client;
  };
  const searchers = await Promise.all(Array.from({ length: POOL }, () => connect(true)));
  const binders = await Promise.all(Array.from({ length: POOL }, () => connect(false)));
  let next = 0;
  // A connection binds for one user at a time (a second bind on it would race the first):
  // an idle list, and requests waiting for one.
  const idle = [...binders];
  const waiting: ((client: Client) => void)[] = [];
  const bindAs = async (dn: string, password: string) => {
    const client = idle.pop() ?? await new Promise<Client>((resolve) => waiting.push(resolve));
    try {
      await client.bind(dn, password);
    } finally {
      const waiter = waiting.shift();
      if (waiter) waiter(client);
      else idle.push(client);
    }
  };
  const pending = new Map<string, { wctx: string; csrf: string }>();
  const sessions = new Map<string, Principal>([
    [FLOOR_SESSION.split('=')[1]!, { upn: 'alice@example.test', immutableId: '1MOyofbliUeavN7wEjRWeA==', instant: new Date() }],
  ]);

  const escape = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
  const cookie = (req: IncomingMessage, name: string) => new RegExp(`(?:^|; )${name}=([^;]+)`).exec(req.headers.cookie ?? '')?.[1];
  const sameSecret = (a: string | undefined, b: string) => a !== undefined && a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));
  const html = (res: ServerResponse, body: string, cookies: string[] = []) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'set-cookie': cookies });
    res.end(body);
  };

  const token = (res: ServerResponse, who: Principal, wctx: string, cookies?: string[]) => {
    const now = new Date();
    const expires = new Date(now.getTime() + 3_600_000);
    const assertion = writeSignedSaml11Assertion({
      assertionId: `_${randomUUID()}`, issuer: 'http://example.test/adfs/services/trust/', issueInstant: now, notBefore: now, notOnOrAfter: expires,
      audience: 'urn:federation:MicrosoftOnline', nameIdentifier: { value: who.immutableId, format: 'urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified' },
      attributes: [
        { name: 'UPN', namespace: 'http://schemas.xmlsoap.org/claims', values: [who.upn] },
        { name: 'ImmutableID', namespace: 'http://schemas.microsoft.com/LiveID/Federation/2008/05', values: [who.immutableId] },
      ],
      authenticationMethod: 'urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport', authenticationInstant: who.instant,
    }, key, 'rsa-sha256');
    const wresult = writeRstr({ created: now, expires, appliesTo: 'urn:federation:MicrosoftOnline', assertion });
    html(res, `<!DOCTYPE html><html><body><form method="post" action="${REPLY}"><input type="hidden" name="wa" value="wsignin1.0">` +
      `<input type="hidden" name="wresult" value="${escape(wresult)}"><input type="hidden" name="wctx" value="${escape(wctx)}">` +
      '<noscript><button>Continue</button></noscript></form></body></html>', cookies);
  };

  const form = (res: ServerResponse, wctx: string) => {
    const id = randomBytes(16).toString('base64url');
    const csrf = randomBytes(16).toString('base64url');
    pending.set(id, { wctx, csrf });
    html(res, `<!DOCTYPE html><html><body><form method="post" action="/login"><input type="hidden" name="pending" value="${id}">` +
      `<input type="hidden" name="csrf" value="${csrf}"><input name="UserName"><input name="Password" type="password"><button>Sign in</button></form></body></html>`,
    [`floor_csrf=${csrf}; Path=/; HttpOnly; SameSite=Lax`]);
  };

  const signIn = async (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = new URLSearchParams(Buffer.concat(chunks).toString());
    const started = pending.get(body.get('pending') ?? '');
    if (!started || !sameSecret(cookie(req, 'floor_csrf'), started.csrf) || !sameSecret(body.get('csrf') ?? undefined, started.csrf)) {
      res.writeHead(403).end();
      return;
    }
    const login = (body.get('UserName') ?? '').split('@')[0]!;
    const { searchEntries: [entry] } = await searchers[next++ % POOL]!.search('ou=people,dc=example,dc=test', {
      scope: 'sub', filter: new EqualityFilter({ attribute: 'uid', value: login }), sizeLimit: 2, attributes: ['uid', 'mail'],
    });
    if (!entry) { res.writeHead(403).end(); return; }
    await bindAs(entry.dn, body.get('Password') ?? '');
    pending.delete(body.get('pending')!);
    const sid = randomBytes(32).toString('base64url');
    const who = { upn: `${login}@example.test`, immutableId: Buffer.from(entry.dn).subarray(0, 16).toString('base64'), instant: new Date() };
    sessions.set(sid, who);
    if (started.wctx === '\0portal') {
      res.writeHead(303, { location: '/', 'set-cookie': `floor_session=${sid}; Path=/; HttpOnly; SameSite=None; Secure` }).end();
      return;
    }
    token(res, who, started.wctx, [`floor_session=${sid}; Path=/; HttpOnly; SameSite=None; Secure`]);
  };

  const server = createServer((req, res) => {
    const [path, search = ''] = (req.url ?? '/').split('?', 2) as [string, string?];
    if (req.method === 'POST' && path === '/login') {
      signIn(req, res).catch(() => res.writeHead(500).end());
      return;
    }
    if (req.method !== 'GET') { res.writeHead(405).end(); return; }
    const who = sessions.get(cookie(req, 'floor_session') ?? '');
    if (path === '/adfs/ls/') {
      const query = new URLSearchParams(search);
      if (query.get('wa') !== 'wsignin1.0' || query.get('wtrealm') !== 'urn:federation:MicrosoftOnline') { res.writeHead(400).end(); return; }
      const wctx = query.get('wctx') ?? '';
      if (who) token(res, who, wctx);
      else form(res, wctx);
      return;
    }
    if (path === '/signin') {
      if (who) res.writeHead(303, { location: '/' }).end();
      else form(res, '\0portal');
      return;
    }
    if (path === '/') { html(res, who ? `<p>${escape(who.upn)}</p>` : '<p>signed out</p>'); return; }
    res.writeHead(404).end();
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return { port: (server.address() as AddressInfo).port, cert: key.certificateBase64 };
}
