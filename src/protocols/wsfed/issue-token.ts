import { randomUUID } from 'node:crypto';
import type { WsfedRelyingPartyConfig } from '../../config/schema.js';
import type { Principal } from '../../core/principal.js';
import type { KeyStore } from '../../keys/key-store.js';
import { writeRstr } from './rstr.js';
import { writeSignedSaml11Assertion } from './saml11-assertion.js';
import { wsfedTokenContent, type WsfedRequestContext } from './wsfed-claims.js';
import type { WsfedState } from './signin-request.js';

/**
 * Turns a signed-in principal into the form the browser posts to the application: wa, wresult
 * (the RSTR with the signed SAML 1.1 assertion, §1.3) and wctx echoed byte for byte. Audience and
 * destination come from the registered application, never from the request.
 */
export interface SignInResponse {
  /** The registered reply URL the form posts to. */
  readonly action: string;
  readonly fields: { readonly wa: 'wsignin1.0'; readonly wresult: string; readonly wctx?: string };
  readonly assertionId: string;
}

export interface WsfedIssuerOptions {
  readonly keys: KeyStore;
  /** federation.identifier: the issuer for generic applications. */
  readonly defaultIssuer: string;
  readonly netbiosDomain?: string | undefined;
  readonly now?: () => number;
}

/** A signed SAML 1.1 assertion and its validity, for an RSTR (WS-Fed's wresult, WS-Trust's response). */
export interface IssuedAssertion {
  /** Exactly what writeSignedSaml11Assertion returned: embed it byte for byte. */
  readonly assertion: string;
  readonly assertionId: string;
  readonly issued: Date;
  readonly expires: Date;
}

export type IssueAssertion = (principal: Principal, rp: WsfedRelyingPartyConfig, ctx: WsfedRequestContext) => IssuedAssertion;

/** The WS-Fed sign-in response; `.assertion` issues the same token alone (WS-Trust, §3.3). */
export type IssueSignInResponse = ((principal: Principal, rp: WsfedRelyingPartyConfig, state: WsfedState, ctx: WsfedRequestContext) => SignInResponse)
  & { readonly assertion: IssueAssertion };

export function createWsfedIssuer(options: WsfedIssuerOptions): IssueSignInResponse {
  const now = options.now ?? Date.now;
  const assertion: IssueAssertion = (principal, rp, ctx) => {
    const content = wsfedTokenContent(principal, rp, ctx, options);
    const issued = new Date(now());
    const expires = new Date(issued.getTime() + rp.tokenLifetime);
    const assertionId = `_${randomUUID()}`;
    const signed = writeSignedSaml11Assertion({
      assertionId,
      issuer: content.issuer,
      issueInstant: issued,
      notBefore: issued,
      notOnOrAfter: expires,
      audience: rp.identifier,
      nameIdentifier: content.nameIdentifier,
      attributes: content.attributes,
      authenticationMethod: content.authenticationMethod,
      authenticationInstant: new Date(principal.authentication.instant),
    }, options.keys.current, rp.signatureAlgorithm);
    return { assertion: signed, assertionId, issued, expires };
  };
  const issue = (principal: Principal, rp: WsfedRelyingPartyConfig, state: WsfedState, ctx: WsfedRequestContext): SignInResponse => {
    const token = assertion(principal, rp, ctx);
    const wresult = writeRstr({ created: token.issued, expires: token.expires, appliesTo: rp.identifier, assertion: token.assertion });
    return {
      action: state.replyUrl,
      fields: state.wctx === undefined ? { wa: 'wsignin1.0', wresult } : { wa: 'wsignin1.0', wresult, wctx: state.wctx },
      assertionId: token.assertionId,
    };
  };
  return Object.assign(issue, { assertion });
}
