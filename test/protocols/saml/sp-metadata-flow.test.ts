import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { beforeAll, describe, expect, it } from 'vitest';
import { SAML } from '@node-saml/node-saml';
import { startTestApp, type TestApp } from '../../harness/app.js';
import { otherKey } from '../../xml/signature-oracles.js';
import { authorizePost, authorizeRedirect, expectAccepted, expectErrorPage, expectNothingSecretLogged, postedXml, samlSignIn, samlSp, send, SP_KEY_PEM, spClient, unsignedSpClient } from './sp-client.js';
import { expectSessionEnded, logoutResponseTo, signInToEach, walkLogout } from './slo-walk.js';

/**
 * An SP configured by nothing but the metadata node-saml writes for itself (metadataFile): its
 * KeyDescriptors (signing, encryption), AuthnRequestsSigned, ACS, POST-binding SingleLogoutService
 * and NameIDFormat are read by fedgate's registry and honoured end to end.
 */
const META = samlSp('sp-meta');
const OTHER = samlSp('sp-other', { signingCertificates: [otherKey.key.certificateBase64] });

function nodeSamlMetadata(): string {
  // With these keys node-saml lists a signing KeyDescriptor (and AuthnRequestsSigned="true") and an encryption one.
  const sp = new SAML({ issuer: META.entityId, callbackUrl: META.acs, logoutCallbackUrl: META.slo, idpCert: otherKey.key.certificateBase64, privateKey: SP_KEY_PEM, decryptionPvk: SP_KEY_PEM, identifierFormat: 'urn:oasis:names:tc:SAML:2.0:nameid-format:persistent' });
  return sp.generateServiceProviderMetadata(otherKey.certPem, otherKey.certPem);
}

let t: TestApp;
beforeAll(async () => {
  const file = join(mkdtempSync(join(tmpdir(), 'fedgate-sp-metadata-')), 'sp.xml');
  const metadata = nodeSamlMetadata();
  expect(metadata).toContain('AuthnRequestsSigned="true"');
  writeFileSync(file, metadata);
  t = await startTestApp({ relyingParties: [{ protocol: 'saml', metadataFile: file }, OTHER.config] });
});

describe('SAML SP from its own (node-saml) metadata', () => {
  it('signed requests (Redirect and POST) answered with an assertion encrypted to the metadata\'s key; unsigned ones refused', async () => {
    const sp = spClient(t, META);
    for (const message of [await authorizeRedirect(sp), await authorizePost(sp)]) {
      const { form } = await samlSignIn(request.agent(t.app), message);
      expect(form.action).toBe(META.acs);
      expect(postedXml(form)).toContain('<saml:EncryptedAssertion');
      expect((await expectAccepted(t, sp, form)).spNameQualifier).toBe(META.entityId);
    }
    // AuthnRequestsSigned="true": an unsigned request is refused.
    expectErrorPage(t, await send(request.agent(t.app), await authorizeRedirect(unsignedSpClient(t, META))));
  });

  it('single logout with the POST binding both ways: the SP\'s LogoutRequest is told to the other SP, its LogoutResponse auto-posted', async () => {
    const signedIn = await signInToEach(t, [OTHER, META]);
    const [other, meta] = signedIn.participants;
    const url = await other!.sp.getLogoutUrlAsync(other!.profile, 'from-other', {});
    const walk = await walkLogout(signedIn.browser, await send(signedIn.browser, url), signedIn.participants);
    expect(walk.told.get(META.entityId)?.nameID).toBe(meta!.profile.nameID);
    expect((await logoutResponseTo(other!, walk.final)).codes).toEqual(['urn:oasis:names:tc:SAML:2.0:status:Success']);
    await expectSessionEnded(t, signedIn);

    // And the other way round: META's LogoutResponse comes back over POST.
    const again = await signInToEach(t, [META, OTHER]);
    const first = again.participants[0]!;
    const res = await send(again.browser, await first.sp.getLogoutUrlAsync(first.profile, 'from-meta', {}));
    const back = await walkLogout(again.browser, res, again.participants);
    expect(back.told.has(OTHER.entityId)).toBe(true);
    expect(await logoutResponseTo(first, back.final)).toEqual({ codes: ['urn:oasis:names:tc:SAML:2.0:status:Success'], relayState: 'from-meta' });
  });
});

it('logged no SAML message, assertion, key or password (every test above ran first)', () => expectNothingSecretLogged(t));
