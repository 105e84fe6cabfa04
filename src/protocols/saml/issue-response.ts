import { createHmac, randomUUID } from 'node:crypto';
import type { Principal } from '../../core/principal.js';
import type { KeyStore } from '../../keys/key-store.js';
import { samlAssertionContent, type SamlContentOptions, type SamlNameId } from './assertion-content.js';
import type { SamlSignInState, StatusAnswer } from './authn-request.js';
import { encryptAssertion } from './encrypt-assertion.js';
import { postBindingForm } from './redirect-binding.js';
import type { ServiceProvider } from './service-provider.js';
import { writeSignedSaml2Assertion } from './saml2-assertion.js';
import { writeSaml2Response } from './saml2-response.js';

/**
 * Turns a signed-in principal (or a refusal) into the form the browser posts to the SP's ACS:
 * SAMLResponse and RelayState echoed. Audience, Recipient and Destination come from the registered
 * SP and the ACS settled when the request was read, never from anything else. One RSA signature
 * (the assertion's) unless the SP also wants the Response signed.
 */
export interface SamlPostForm {
  /** The registered ACS the form posts to. */
  readonly action: string;
  readonly fields: Readonly<Record<string, string>>;
  readonly responseId: string;
}

export interface SamlIssuerOptions extends SamlContentOptions {
  readonly keys: KeyStore;
  /** Issuer of status (error) Responses to a generic SP. */
  readonly now?: () => number;
}

export interface SamlIssuer {
  success(principal: Principal, sp: ServiceProvider, state: SamlSignInState, ssoId: string): Promise<SamlPostForm & { assertionId: string; nameId: SamlNameId; issuer: string }>;
  status(sp: ServiceProvider, state: SamlSignInState, status: StatusAnswer): SamlPostForm;
  /** The SessionIndex of a session: the same for every SP (as AD FS), not the session's id or reference. */
  sessionIndex(ssoId: string): string;
}

/** SubjectConfirmationData NotOnOrAfter: the response must reach the ACS within this (Entra's sample: 5 minutes). */
const DELIVERY_WINDOW_MS = 5 * 60_000;

export function createSamlIssuer(options: SamlIssuerOptions): SamlIssuer {
  const now = options.now ?? Date.now;
  const sessionIndex = (ssoId: string) =>
    `_${createHmac('sha256', options.nameIdSalt).update(`session-index\n${ssoId}`).digest('hex').slice(0, 40)}`;
  const signer = (sp: ServiceProvider) => ({ key: options.keys.current, algorithm: sp.signatureAlgorithm });
  const form = (state: SamlSignInState, xml: string, responseId: string): SamlPostForm => ({
    ...postBindingForm(state.acsUrl, { parameter: 'SAMLResponse', xml, relayState: state.relayState }),
    responseId,
  });

  return {
    sessionIndex,

    async success(principal, sp, state, ssoId) {
      const content = samlAssertionContent(principal, sp, state, ssoId, options);
      const issued = new Date(now());
      const assertionId = `_${randomUUID()}`;
      const responseId = `_${randomUUID()}`;
      const assertion = writeSignedSaml2Assertion({
        assertionId,
        issuer: content.issuer,
        issueInstant: issued,
        nameId: content.nameId,
        subjectConfirmation: { recipient: state.acsUrl, notOnOrAfter: new Date(issued.getTime() + DELIVERY_WINDOW_MS), inResponseTo: state.requestId },
        notBefore: issued,
        notOnOrAfter: new Date(issued.getTime() + sp.tokenLifetimeMs),
        audience: sp.entityId,
        attributes: content.attributes,
        authnInstant: new Date(principal.authentication.instant),
        sessionIndex: sessionIndex(ssoId),
        authnContextClassRef: content.authnContextClassRef,
      }, options.keys.current, sp.signatureAlgorithm);
      const body = sp.encryptionCertificate === undefined
        ? { signedAssertion: assertion }
        : { encryptedAssertion: await encryptAssertion(assertion, sp.encryptionCertificate, sp.encryptionAlgorithm) };
      const xml = writeSaml2Response({
        id: responseId, issueInstant: issued, issuer: content.issuer, destination: state.acsUrl, inResponseTo: state.requestId,
      }, body, sp.signResponse ? signer(sp) : undefined);
      return { ...form(state, xml, responseId), assertionId, nameId: content.nameId, issuer: content.issuer };
    },

    // A status Response carries no assertion to be signed, and SPs (node-saml, Shibboleth) trust a
    // NoPassive or NoAuthnContext answer only when it is signed: one signature, on error answers only.
    status(sp, state, status) {
      const responseId = `_${randomUUID()}`;
      // An Entra SP's issuer is per domain, and a refusal concerns no user yet: its first domain's.
      const issuer = sp.profile === 'entra' ? sp.domains[0]!.issuerUri : sp.issuer;
      const xml = writeSaml2Response({
        id: responseId, issueInstant: new Date(now()), issuer, destination: state.acsUrl, inResponseTo: state.requestId, status,
      }, {}, signer(sp));
      return form(state, xml, responseId);
    },
  };
}
