import { startTestApp, type TestApp } from '../../harness/app.js';
import type { EntraTenant } from '../../entra/login-srf.js';
import { immutableIdOf } from '../wsfed/tenant.js';

/**
 * The demo users file (examples/demo-users.yaml: active, disabled, expired and must-change
 * accounts) behind the Entra relying party for its domain and one generic WS-Fed application.
 */
export const DEMO = {
  alice: { login: 'alice@demo.fedgate.test', password: 'Demo-alice-1', immutableId: immutableIdOf('a1b2c3d4-e5f6-4789-9abc-def012345678') },
  bob: { login: 'bob@demo.fedgate.test', password: 'Demo-bob-1', immutableId: immutableIdOf('78551c70-976f-4040-826c-321dbcd2787e') },
  carol: { login: 'carol@demo.fedgate.test', password: 'Demo-carol-1' },
  dave: { login: 'dave@demo.fedgate.test', password: 'Demo-dave-1' },
  erin: { login: 'erin@demo.fedgate.test', password: 'Demo-erin-1' },
} as const;

export const DEMO_ISSUER = 'http://demo.fedgate.test/adfs/services/trust/';
export const APP = { identifier: 'urn:test:wstrust-app', replyUrl: 'https://app.test/signin-wsfed' };
export const ROLE = 'http://schemas.microsoft.com/ws/2008/06/identity/claims/role';

export function wsTrustApp(extra: Record<string, unknown> = {}): Promise<TestApp> {
  return startTestApp({
    relyingParties: [
      { protocol: 'wsfed', profile: 'entra', domains: ['demo.fedgate.test'] },
      { protocol: 'wsfed', identifier: APP.identifier, replyUrls: [APP.replyUrl], claims: ['upn', { claim: 'groups', as: ROLE }] },
    ],
    ...extra,
  });
}

export function demoTenant(t: TestApp): EntraTenant {
  return {
    domains: [{ name: 'demo.fedgate.test', issuerUri: DEMO_ISSUER, signingCertificate: t.services.keys.current.certificateBase64 }],
    users: [{ upn: DEMO.alice.login, immutableId: DEMO.alice.immutableId }, { upn: DEMO.bob.login, immutableId: DEMO.bob.immutableId }],
  };
}

