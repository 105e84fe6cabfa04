import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import kerberos from 'kerberos';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createSambaUser, curlNegotiate, disableSambaUser, kinit, mitKdc, negotiateToken, ntlmToken, sambaKerberos, withKrb5Env,
  type KerberosRealm,
} from '../harness/kerberos.js';
import { USERS } from '../harness/users.js';

/**
 * The Kerberos test harness itself, against both real KDCs: what the SPNEGO sign-in tests build
 * on. The acceptor here is the `kerberos` module used directly (as reference/negotiate-server.js),
 * not fedgate's.
 */

interface Accepted {
  principal: string;
  /** The mutual-authentication token for WWW-Authenticate. */
  response: string;
}

/** One server context per token (Kerberos SPNEGO completes in one leg). */
function accept(realm: KerberosRealm, token: string, service = 'HTTP@localhost', keytab = realm.keytab): Promise<Accepted> {
  return withKrb5Env({ KRB5_KTNAME: `FILE:${keytab}`, KRB5_CONFIG: realm.krb5Config }, async () => {
    const ctx = await kerberos.initializeServer(service);
    await ctx.step(token);
    if (!ctx.contextComplete) throw new Error('SPNEGO context not complete');
    return { principal: ctx.username, response: ctx.response };
  });
}

const tokenOf = (header: string) => header.replace(/^Negotiate /, '');

/** A tiny Negotiate-protected server on 127.0.0.1 (port from 0) for curl. */
async function negotiateServer(realm: KerberosRealm): Promise<{ url: string; close(): Promise<void> }> {
  const server: Server = createServer((req, res) => {
    const challenge = (body: string) => {
      res.writeHead(401, { 'WWW-Authenticate': 'Negotiate', 'Content-Type': 'text/plain' }).end(body);
    };
    const m = /^Negotiate\s+(\S+)$/.exec(req.headers.authorization ?? '');
    if (!m) return challenge('Negotiate required');
    if (m[1]!.startsWith('TlRMTVNTUAA')) return challenge('NTLM is not supported');
    accept(realm, m[1]!).then(
      (ok) => res.writeHead(200, { 'WWW-Authenticate': `Negotiate ${ok.response}`, 'Content-Type': 'application/json' })
        .end(JSON.stringify({ principal: ok.principal })),
      (err: Error) => challenge(`rejected: ${err.message}`),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://localhost:${port}/`,
    close: () => new Promise((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}

describe('MIT KDC', () => {
  const kdc = mitKdc();
  let server: Awaited<ReturnType<typeof negotiateServer>>;
  beforeAll(async () => { server = await negotiateServer(kdc); });
  afterAll(() => server.close());

  it('kinit gets a ticket; a wrong password is refused', async () => {
    expect(kdc.realm).toBe('KRB.TEST');
    expect(kdc.kdcPort).toBeLessThan(32768);
    expect(await kinit(kdc.krb5Config, 'alice@KRB.TEST', USERS.alice.password)).toMatch(/^FILE:\//);
    await expect(kinit(kdc.krb5Config, 'alice@KRB.TEST', 'wrong')).rejects.toThrow(/Password incorrect/);
  });

  it('a GSSAPI client and an acceptor in one process complete a context, with mutual authentication', async () => {
    const ccache = await kinit(kdc.krb5Config, 'alice', USERS.alice.password);
    const token = await negotiateToken({ krb5Config: kdc.krb5Config, ccache });
    expect(token.header).toMatch(/^Negotiate YII/); // SPNEGO NegTokenInit (DER application 0)
    const accepted = await accept(kdc, tokenOf(token.header));
    expect(accepted.principal).toBe('alice@KRB.TEST');
    await token.verifyServerToken(`Negotiate ${accepted.response}`);
    await expect(token.verifyServerToken('Negotiate')).rejects.toThrow(/no mutual-authentication token/);
  });

  it('a ticket for HTTP/<hostname> is accepted too (ignore_acceptor_hostname)', async () => {
    const ccache = await kinit(kdc.krb5Config, 'bob', USERS.bob.password);
    const { hostname } = await import('node:os');
    const token = await negotiateToken({ krb5Config: kdc.krb5Config, ccache, service: `HTTP@${hostname()}` });
    expect((await accept(kdc, tokenOf(token.header))).principal).toBe('bob@KRB.TEST');
  });

  it('curl --negotiate gets 200 and the principal; without a ticket it sees 401', async () => {
    const ccache = await kinit(kdc.krb5Config, 'alice', USERS.alice.password);
    // curl --negotiate sends its token unasked; challengeFirst waits for the 401 as browsers do.
    const eager = await curlNegotiate(server.url, { krb5Config: kdc.krb5Config, ccache });
    expect(eager.statuses).toEqual([200]);
    const ok = await curlNegotiate(server.url, { krb5Config: kdc.krb5Config, ccache, challengeFirst: true });
    expect(ok.statuses).toEqual([401, 200]);
    expect(ok.status).toBe(200);
    expect(JSON.parse(ok.body)).toEqual({ principal: 'alice@KRB.TEST' });
    expect(ok.headers['www-authenticate']).toMatch(/^Negotiate \S+/);

    for (const challengeFirst of [false, true]) {
      const none = await curlNegotiate(server.url, { krb5Config: kdc.krb5Config, challengeFirst });
      expect(none.status).toBe(401);
      expect(none.headers['www-authenticate']).toBe('Negotiate');
      expect(none.body).toBe('Negotiate required');
    }
  });

  it('an NTLM token is syntactically an NTLMSSP NEGOTIATE message', async () => {
    const token = ntlmToken();
    expect(token).toMatch(/^TlRMTVNTUAA/);
    const raw = Buffer.from(token, 'base64');
    expect(raw.subarray(0, 8).toString('latin1')).toBe('NTLMSSP\0');
    expect(raw.readUInt32LE(8)).toBe(1);
    const res = await fetch(server.url.replace('localhost', '127.0.0.1'), { headers: { Authorization: `Negotiate ${token}` } });
    expect(res.status).toBe(401);
    expect(await res.text()).toBe('NTLM is not supported');
  });

  it('a stale keytab (key rotated in the KDC) fails with a readable message', async () => {
    const host = `stale-${process.pid}-${Date.now()}`;
    const keytab = await kdc.addService(`HTTP/${host}`);
    await kdc.rotateKey(`HTTP/${host}`);
    const ccache = await kinit(kdc.krb5Config, 'alice', USERS.alice.password);
    const token = await negotiateToken({ krb5Config: kdc.krb5Config, ccache, service: `HTTP@${host}` });
    await expect(accept(kdc, tokenOf(token.header), `HTTP@${host}`, keytab))
      .rejects.toThrow(/kvno \d+ not found in keytab; keytab is likely out of date/);
  });

  it('a disabled principal gets no ticket', async () => {
    const name = `kdis${process.pid}`;
    await kdc.addUser(name, 'Passw0rd!kdis');
    await kinit(kdc.krb5Config, name, 'Passw0rd!kdis');
    await kdc.disableUser(name);
    await expect(kinit(kdc.krb5Config, name, 'Passw0rd!kdis')).rejects.toThrow(/credentials have been revoked/);
    await expect(kdc.disableUser('alice')).rejects.toThrow(/shared/);
  });
});

describe('Samba AD KDC', () => {
  let realm: KerberosRealm;
  let server: Awaited<ReturnType<typeof negotiateServer>>;
  beforeAll(async () => {
    realm = sambaKerberos();
    server = await negotiateServer(realm);
  });
  afterAll(() => server.close());

  it('kinit, a GSSAPI context and curl --negotiate as alice@EXAMPLE.TEST', async () => {
    expect(realm.realm).toBe('EXAMPLE.TEST');
    const ccache = await kinit(realm.krb5Config, 'alice@EXAMPLE.TEST', USERS.alice.password);
    const token = await negotiateToken({ krb5Config: realm.krb5Config, ccache });
    const accepted = await accept(realm, tokenOf(token.header));
    expect(accepted.principal).toBe('alice@EXAMPLE.TEST');
    await token.verifyServerToken(`Negotiate ${accepted.response}`);

    const ok = await curlNegotiate(server.url, { krb5Config: realm.krb5Config, ccache });
    expect(ok.status).toBe(200);
    expect(JSON.parse(ok.body)).toEqual({ principal: 'alice@EXAMPLE.TEST' });
  });

  it('a user disabled after the service ticket was issued: the ticket still verifies (only the directory can refuse)', async () => {
    const name = `kt${process.pid}`;
    const password = `Passw0rd!${name}`;
    await createSambaUser(name, password);
    const ccache = await kinit(realm.krb5Config, `${name}@EXAMPLE.TEST`, password);
    // The first token puts the HTTP/localhost service ticket in the ccache: Samba's KDC checks
    // the account at every TGS request, so after the disable only a cached service ticket works.
    await negotiateToken({ krb5Config: realm.krb5Config, ccache });
    await disableSambaUser(name);
    await expect(kinit(realm.krb5Config, `${name}@EXAMPLE.TEST`, password)).rejects.toThrow(/revoked/);
    const token = await negotiateToken({ krb5Config: realm.krb5Config, ccache });
    expect((await accept(realm, tokenOf(token.header))).principal).toBe(`${name}@EXAMPLE.TEST`);
    const other = await kinit(realm.krb5Config, 'bob@EXAMPLE.TEST', USERS.bob.password);
    await expect(negotiateToken({ krb5Config: realm.krb5Config, ccache: other, service: 'HTTP@nosuchhost' }))
      .rejects.toThrow(/no Negotiate token for HTTP@nosuchhost/);
    await expect(createSambaUser('alice', password)).rejects.toThrow(/shared/);
  });
});
