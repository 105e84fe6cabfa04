import { generateKeyPairSync } from 'node:crypto';
import Provider, { type Adapter, type AdapterPayload } from 'oidc-provider';
import request from 'supertest';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createStateAdapterClass } from '../../../src/protocols/oidc/state-adapter.js';
import { createMemoryStore } from '../../../src/state/memory-store.js';
import type { StateStore } from '../../../src/state/state-store.js';

const START = Date.UTC(2026, 10, 26, 12, 0, 0);
let t: number;
let store: StateStore;
let adapter: (model: string) => Adapter;

beforeEach(() => {
  t = START;
  const now = () => t;
  store = createMemoryStore({ now });
  const StateAdapter = createStateAdapterClass(store, { now });
  adapter = (model) => new StateAdapter(model);
});
afterEach(() => store.close());

const seconds = (s: number) => {
  t += s * 1000;
};

describe('oidc state adapter', () => {
  it('oidc adapter: upsert stores JSON under oidc:<model>:, find returns a copy, other models do not see it', async () => {
    const payload: AdapterPayload = { jti: 'at1', accountId: 'alice', clientId: 'app', scope: 'openid', extra: { nested: [1, 2] } };
    await adapter('AccessToken').upsert('at1', payload, 60);
    expect(await store.get('oidc:AccessToken:id:at1')).toEqual({ payload, expiresAt: START + 60_000 });
    const found = await adapter('AccessToken').find('at1');
    expect(found).toEqual(payload);
    expect(found).not.toBe(payload);
    payload.scope = 'changed after upsert';
    expect((await adapter('AccessToken').find('at1'))?.scope).toBe('openid');
    expect(await adapter('RefreshToken').find('at1')).toBeUndefined();
    expect(await adapter('AccessToken').find('unknown')).toBeUndefined();
  });

  it('oidc adapter: a record and its indexes expire after expiresIn seconds', async () => {
    await adapter('Session').upsert('s1', { uid: 'u1', accountId: 'alice' }, 60);
    await adapter('DeviceCode').upsert('d1', { userCode: 'ABCD-EFGH', clientId: 'tv' }, 30);
    seconds(29.999);
    expect(await adapter('DeviceCode').findByUserCode('ABCD-EFGH')).toMatchObject({ clientId: 'tv' });
    seconds(0.001);
    expect(await adapter('DeviceCode').find('d1')).toBeUndefined();
    expect(await store.get('oidc:DeviceCode:userCode:ABCD-EFGH')).toBeUndefined();
    seconds(29.999);
    expect(await adapter('Session').findByUid('u1')).toMatchObject({ accountId: 'alice' });
    seconds(0.001);
    expect(await adapter('Session').find('s1')).toBeUndefined();
    expect(await store.get('oidc:Session:uid:u1')).toBeUndefined();
  });

  it('oidc adapter: an upsert again replaces the payload and restarts the TTL; no expiresIn means it stays', async () => {
    await adapter('Interaction').upsert('i1', { returnTo: '/a' }, 10);
    seconds(8);
    await adapter('Interaction').upsert('i1', { returnTo: '/b' }, 10);
    seconds(8);
    expect(await adapter('Interaction').find('i1')).toEqual({ returnTo: '/b' });
    await adapter('Client').upsert('dyn', { client_id: 'dyn', redirect_uris: ['https://rp.example/cb'] });
    seconds(10 * 365 * 86_400);
    expect(await adapter('Client').find('dyn')).toMatchObject({ client_id: 'dyn' });
  });

  it('oidc adapter: findByUid follows the session uid, drops the old uid when it changes, and is per model', async () => {
    const sessions = adapter('Session');
    await sessions.upsert('s1', { uid: 'u1', accountId: 'alice' }, 3600);
    expect(await sessions.findByUid('u1')).toEqual({ uid: 'u1', accountId: 'alice' });
    expect(await adapter('Interaction').findByUid('u1')).toBeUndefined();
    expect(await sessions.findByUid('nobody')).toBeUndefined();
    await sessions.upsert('s1', { uid: 'u2', accountId: 'alice' }, 3600);
    expect(await sessions.findByUid('u1')).toBeUndefined();
    expect(await sessions.findByUid('u2')).toMatchObject({ uid: 'u2' });
  });

  it('oidc adapter: findByUserCode finds the device code by its user code', async () => {
    const codes = adapter('DeviceCode');
    await codes.upsert('d1', { userCode: 'WDJB-MJHT', clientId: 'tv', params: { scope: 'openid' } }, 600);
    expect(await codes.findByUserCode('WDJB-MJHT')).toMatchObject({ clientId: 'tv', params: { scope: 'openid' } });
    expect(await codes.findByUserCode('XXXX-XXXX')).toBeUndefined();
    expect(await adapter('AccessToken').findByUserCode('WDJB-MJHT')).toBeUndefined();
  });

  it('oidc adapter: consume sets consumed to epoch seconds and keeps the remaining TTL; unknown or expired ids stay gone', async () => {
    const codes = adapter('AuthorizationCode');
    await codes.upsert('c1', { clientId: 'app', grantId: 'g1' }, 60);
    seconds(20.5);
    await codes.consume('c1');
    expect(await codes.find('c1')).toEqual({ clientId: 'app', grantId: 'g1', consumed: Math.floor((START + 20_500) / 1000) });
    seconds(39.499);
    expect((await codes.find('c1'))?.consumed).toBe(Math.floor((START + 20_500) / 1000));
    seconds(0.001);
    expect(await codes.find('c1')).toBeUndefined();
    await codes.consume('c1');
    await codes.consume('never');
    expect(await codes.find('c1')).toBeUndefined();
    expect(await codes.find('never')).toBeUndefined();
  });

  it('oidc adapter: destroy removes the record and its indexes, not the rest of its grant; unknown ids are fine', async () => {
    await adapter('DeviceCode').upsert('d1', { userCode: 'AAAA-BBBB', grantId: 'g1' }, 600);
    await adapter('AccessToken').upsert('at1', { grantId: 'g1' }, 600);
    await adapter('DeviceCode').destroy('d1');
    expect(await adapter('DeviceCode').find('d1')).toBeUndefined();
    expect(await adapter('DeviceCode').findByUserCode('AAAA-BBBB')).toBeUndefined();
    expect(await store.get('oidc:DeviceCode:userCode:AAAA-BBBB')).toBeUndefined();
    expect(await store.get('oidc:DeviceCode:id:d1')).toBeUndefined();
    expect(await adapter('AccessToken').find('at1')).toEqual({ grantId: 'g1' });
    await adapter('AccessToken').destroy('at1');
    expect(await adapter('AccessToken').find('at1')).toBeUndefined();
    await adapter('AccessToken').destroy('never');
  });

  it('oidc adapter: destroying a record leaves an index that a newer record owns', async () => {
    const sessions = adapter('Session');
    await sessions.upsert('old', { uid: 'shared', accountId: 'alice' }, 3600);
    await sessions.upsert('new', { uid: 'shared', accountId: 'bob' }, 3600);
    await sessions.destroy('old');
    expect(await sessions.findByUid('shared')).toMatchObject({ accountId: 'bob' });
  });

  it('oidc adapter: revokeByGrantId through any model deletes every token of that grant, with their indexes, and nothing else', async () => {
    const models = ['AccessToken', 'RefreshToken', 'AuthorizationCode', 'DeviceCode', 'BackchannelAuthenticationRequest', 'PreAuthorizedCode'];
    // Sessions and interactions carry a grantId but are not the grant's tokens: an interaction
    // being resumed must survive the revocation that a logout of the previous account causes.
    await adapter('Interaction').upsert('i-g1', { grantId: 'g1' }, 600);
    await adapter('Session').upsert('s-g1', { grantId: 'g1' }, 600);
    for (const model of models) {
      await adapter(model).upsert(`${model}-g1`, { grantId: 'g1', ...(model === 'DeviceCode' ? { userCode: 'GGGG-1111' } : {}) }, 600);
      await adapter(model).upsert(`${model}-g2`, { grantId: 'g2' }, 600);
    }
    await adapter('AccessToken').upsert('no-grant', { clientId: 'm2m' }, 600);
    await adapter('Grant').upsert('g1', { accountId: 'alice', clientId: 'app' }, 600);

    await adapter('AccessToken').revokeByGrantId('g1');
    for (const model of models) {
      expect(await adapter(model).find(`${model}-g1`)).toBeUndefined();
      expect(await adapter(model).find(`${model}-g2`)).toEqual({ grantId: 'g2' });
    }
    expect(await adapter('DeviceCode').findByUserCode('GGGG-1111')).toBeUndefined();
    expect(await adapter('AccessToken').find('no-grant')).toBeDefined();
    expect(await adapter('Interaction').find('i-g1')).toEqual({ grantId: 'g1' });
    expect(await adapter('Session').find('s-g1')).toEqual({ grantId: 'g1' });
    // The grant itself is oidc-provider's to destroy (revokeGrantPolicy), as in its memory adapter.
    expect(await adapter('Grant').find('g1')).toBeDefined();

    // oidc-provider calls it for every model at once: the calls after the first find nothing to do.
    await Promise.all(models.map((model) => adapter(model).revokeByGrantId('g2')));
    for (const model of models) expect(await adapter(model).find(`${model}-g2`)).toBeUndefined();
    await adapter('RefreshToken').revokeByGrantId('unknown');
  });

  it('oidc adapter: a grant\'s epoch outlives its longest-lived token, so a late revocation still reaches it; then it expires', async () => {
    await adapter('RefreshToken').upsert('rt', { grantId: 'g' }, 3600);
    await adapter('AccessToken').upsert('at', { grantId: 'g' }, 60);
    seconds(61);
    await adapter('AccessToken').upsert('at2', { grantId: 'g' }, 60);
    seconds(3000);
    // A short token saved last must not have shortened the epoch: the refresh token is still revocable.
    expect(await adapter('RefreshToken').find('rt')).toBeDefined();
    await adapter('AccessToken').revokeByGrantId('g');
    expect(await adapter('RefreshToken').find('rt')).toBeUndefined();

    // Saves read the epoch without a lock: it is made, and lengthened, only now and then.
    await adapter('AccessToken').upsert('at3', { grantId: 'h' }, 60);
    const epoch = await store.get<{ id: string; expiresAt: number }>('oidc:Grant:epoch:h');
    expect(epoch?.expiresAt).toBe(t + 120_000);
    seconds(30);
    await adapter('AccessToken').upsert('at4', { grantId: 'h' }, 60);
    expect(await store.get('oidc:Grant:epoch:h')).toEqual(epoch);
    seconds(30);
    await adapter('RefreshToken').upsert('rt2', { grantId: 'h' }, 3600);
    expect(await store.get('oidc:Grant:epoch:h')).toEqual({ id: epoch!.id, expiresAt: t + 7_200_000 });
    expect(await adapter('AccessToken').find('at4')).toBeDefined();
    seconds(7200);
    expect(await store.get('oidc:Grant:epoch:h')).toBeUndefined();
    expect(await store.get('oidc:Grant:lock:h')).toBeUndefined();
  });

  it('oidc adapter: tokens saved after their grant was revoked are valid (a revoked access token leaves its grant)', async () => {
    await adapter('AccessToken').upsert('before', { grantId: 'g' }, 600);
    await adapter('AccessToken').revokeByGrantId('g');
    await adapter('AuthorizationCode').upsert('after', { grantId: 'g' }, 60);
    expect(await adapter('AccessToken').find('before')).toBeUndefined();
    expect(await adapter('AuthorizationCode').find('after')).toEqual({ grantId: 'g' });
    // A grant that never had a token: nothing to do, nothing stored.
    await adapter('AccessToken').revokeByGrantId('none');
    expect(await store.get('oidc:Grant:epoch:none')).toBeUndefined();
  });

  it('oidc adapter: tokens listed in a grant\'s member list by an earlier version are still revoked with it', async () => {
    // As the previous version stored them: no epoch, a member list per grant.
    await store.set('oidc:RefreshToken:id:old-rt', { payload: { grantId: 'g' }, expiresAt: START + 600_000 }, 600_000);
    await store.set('oidc:DeviceCode:id:old-dc', { payload: { grantId: 'g', userCode: 'OLDC-0DE0' }, expiresAt: START + 600_000 }, 600_000);
    await store.set('oidc:DeviceCode:userCode:OLDC-0DE0', 'old-dc', 600_000);
    await store.set('oidc:Grant:members:g', [
      { model: 'RefreshToken', id: 'old-rt', expiresAt: START + 600_000 }, { model: 'DeviceCode', id: 'old-dc', expiresAt: START + 600_000 },
    ], 600_000);
    expect(await adapter('RefreshToken').find('old-rt')).toEqual({ grantId: 'g' });
    await adapter('AccessToken').upsert('new-at', { grantId: 'g' }, 600);
    await adapter('RefreshToken').revokeByGrantId('g');
    expect(await adapter('RefreshToken').find('old-rt')).toBeUndefined();
    expect(await adapter('DeviceCode').findByUserCode('OLDC-0DE0')).toBeUndefined();
    expect(await store.get('oidc:DeviceCode:userCode:OLDC-0DE0')).toBeUndefined();
    expect(await adapter('AccessToken').find('new-at')).toBeUndefined();
    expect(await store.get('oidc:Grant:members:g')).toBeUndefined();
  });

  it('oidc adapter: a session saved again unchanged but for its sliding expiry is not rewritten within a minute; any change is', async () => {
    const sessions = adapter('Session');
    await sessions.upsert('s1', { uid: 'u1', accountId: 'alice', exp: START / 1000 + 3600 }, 3600);
    seconds(30);
    await sessions.upsert('s1', { accountId: 'alice', uid: 'u1', exp: START / 1000 + 3630, transient: undefined }, 3600);
    expect(await store.get('oidc:Session:id:s1')).toEqual({ payload: { uid: 'u1', accountId: 'alice', exp: START / 1000 + 3600 }, expiresAt: START + 3_600_000 });
    await sessions.upsert('s1', { uid: 'u1', accountId: 'alice', exp: START / 1000 + 3630, authorizations: { app: { sid: 's' } } }, 3600);
    expect(await sessions.findByUid('u1')).toMatchObject({ authorizations: { app: { sid: 's' } }, exp: START / 1000 + 3630 });
    // The slack is 1% of the TTL when that is less than a minute: 36 s here.
    seconds(35);
    await sessions.upsert('s1', { uid: 'u1', accountId: 'alice', exp: START / 1000 + 3665, authorizations: { app: { sid: 's' } } }, 3600);
    expect(await store.get('oidc:Session:id:s1')).toMatchObject({ expiresAt: START + 3_630_000 });
    seconds(2);
    await sessions.upsert('s1', { uid: 'u1', accountId: 'alice', exp: START / 1000 + 3667, authorizations: { app: { sid: 's' } } }, 3600);
    expect(await store.get('oidc:Session:id:s1')).toMatchObject({ expiresAt: START + 3_667_000 });
    // Other models are written every time.
    await adapter('Interaction').upsert('i1', { uid: 'i1', exp: 1 }, 600);
    await adapter('Interaction').upsert('i1', { uid: 'i1', exp: 2 }, 600);
    expect(await adapter('Interaction').find('i1')).toEqual({ uid: 'i1', exp: 2 });
  });

  it('oidc adapter: a device code approved later (grantId added by a second upsert) is revocable, and moving grants moves membership', async () => {
    const codes = adapter('DeviceCode');
    await codes.upsert('d1', { userCode: 'WXYZ-0000' }, 600);
    await codes.upsert('d1', { userCode: 'WXYZ-0000', grantId: 'g1', accountId: 'alice' }, 600);
    expect(await codes.findByUserCode('WXYZ-0000')).toMatchObject({ accountId: 'alice' });
    await adapter('AccessToken').upsert('moved', { grantId: 'g1' }, 600);
    await adapter('AccessToken').upsert('moved', { grantId: 'g2' }, 600);
    await adapter('AccessToken').revokeByGrantId('g1');
    expect(await codes.find('d1')).toBeUndefined();
    expect(await adapter('AccessToken').find('moved')).toBeDefined();
    await adapter('AccessToken').revokeByGrantId('g2');
    expect(await adapter('AccessToken').find('moved')).toBeUndefined();
  });

  it('oidc adapter: tokens of one grant saved concurrently are all revocable, and consume racing a revocation does not resurrect', async () => {
    const ids = Array.from({ length: 25 }, (_, i) => `at${i}`);
    await Promise.all(ids.map((id, i) => adapter(i % 2 ? 'AccessToken' : 'RefreshToken').upsert(id, { grantId: 'g' }, 600)));
    for (const [i, id] of ids.entries()) expect(await adapter(i % 2 ? 'AccessToken' : 'RefreshToken').find(id)).toBeDefined();
    expect(await store.get('oidc:Grant:lock:g')).toBeUndefined();
    await adapter('AuthorizationCode').upsert('code', { grantId: 'g' }, 600);
    await Promise.all([adapter('AuthorizationCode').consume('code'), adapter('AccessToken').revokeByGrantId('g')]);
    for (const [i, id] of ids.entries()) expect(await adapter(i % 2 ? 'AccessToken' : 'RefreshToken').find(id)).toBeUndefined();
    expect(await adapter('AuthorizationCode').find('code')).toBeUndefined();
  });
});

describe('oidc adapter in oidc-provider', () => {
  it('oidc adapter: a client_credentials grant through a real oidc-provider is stored, introspected and revoked via the adapter', async () => {
    const realStore = createMemoryStore();
    const jwk = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' });
    const provider = new Provider('https://op.example.test', {
      adapter: createStateAdapterClass(realStore),
      clients: [{ client_id: 'm2m', client_secret: 'm2m-secret-that-is-long-enough', grant_types: ['client_credentials'], redirect_uris: [], response_types: [], id_token_signed_response_alg: 'ES256' }],
      features: {
        clientCredentials: { enabled: true },
        introspection: { enabled: true, allowedPolicy: () => true },
        revocation: { enabled: true, allowedPolicy: () => true },
        devInteractions: { enabled: false },
      },
      ttl: { ClientCredentials: 600 },
      jwks: { keys: [{ ...jwk, kid: 'ec', alg: 'ES256', use: 'sig' }] },
      cookies: { keys: ['a-cookie-key-for-the-test'] },
      scopes: ['api:read'],
    });
    const app = provider.callback();
    const auth = ['m2m', 'm2m-secret-that-is-long-enough'] as const;
    try {
      const issued = await request(app).post('/token').auth(...auth).type('form').send({ grant_type: 'client_credentials', scope: 'api:read' });
      expect(issued.status, issued.text).toBe(200);
      const token = (issued.body as { access_token: string; expires_in: number }).access_token;
      expect((issued.body as { token_type: string }).token_type).toBe('Bearer');

      const stored = await realStore.get<{ payload: AdapterPayload; expiresAt: number }>(`oidc:ClientCredentials:id:${token}`);
      expect(stored?.payload).toMatchObject({ clientId: 'm2m', scope: 'api:read', kind: 'ClientCredentials' });
      // expiresIn (seconds) became the store TTL (ms).
      expect((issued.body as { expires_in: number }).expires_in).toBe(600);
      expect(stored!.expiresAt - Date.now()).toBeGreaterThan(595_000);
      expect(stored!.expiresAt - Date.now()).toBeLessThanOrEqual(600_000);

      const active = await request(app).post('/token/introspection').auth(...auth).type('form').send({ token });
      expect(active.body).toMatchObject({ active: true, client_id: 'm2m', scope: 'api:read' });

      const revoked = await request(app).post('/token/revocation').auth(...auth).type('form').send({ token });
      expect(revoked.status).toBe(200);
      expect(await realStore.get(`oidc:ClientCredentials:id:${token}`)).toBeUndefined();
      const inactive = await request(app).post('/token/introspection').auth(...auth).type('form').send({ token });
      expect(inactive.body).toEqual({ active: false });
    } finally {
      await realStore.close();
    }
  });
});
