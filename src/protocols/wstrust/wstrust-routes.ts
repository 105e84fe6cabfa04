import { Router } from 'express';
import type { NegotiateDeps } from '../../authn/login-routes.js';
import type { SignInPipeline } from '../../authn/sign-in-pipeline.js';
import type { Config } from '../../config/schema.js';
import type { NetworkTest } from '../../http/client-network.js';
import type { IssueSignInResponse } from '../wsfed/issue-token.js';
import { relyingPartyLookup } from './relying-party.js';
import { onlyPost, soapEndpoint } from './soap-endpoint.js';
import { TRUST_VERSIONS } from './trust-version.js';
import { usernameMixed } from './username-mixed.js';
import { windowsTransport } from './windows-transport.js';
import { wsTrustPath } from './mex-endpoints.js';

/**
 * WS-Trust active endpoints at AD FS's paths (entra-federation.md §3): usernamemixed and
 * windowstransport, 2005 and 1.3, each only when enabled in wsTrust.
 */
export interface WsTrustRouteDeps {
  readonly config: Config;
  readonly pipeline: SignInPipeline;
  /** The WS-Fed token writer: the same SAML 1.1 assertion as passive sign-in (`issue.assertion`). */
  readonly issue: IssueSignInResponse;
  readonly isInternal: NetworkTest;
  /** The Kerberos acceptor, when authn.kerberos is configured (windowstransport). */
  readonly negotiate: NegotiateDeps | undefined;
  /** The clock timestamps are checked against (tests). */
  readonly now?: () => number;
}

export const WSTRUST_BASE_PATH = '/adfs/services/trust';

export function wsTrustRoutes(deps: WsTrustRouteDeps): Router {
  const router = Router();
  const relyingParty = relyingPartyLookup(deps.config);
  if (deps.config.wsTrust.usernameMixed) {
    for (const version of TRUST_VERSIONS) {
      const path = `${WSTRUST_BASE_PATH}/${version.path}/usernamemixed`;
      router.post(path, ...soapEndpoint(`${version.path}/usernamemixed`, usernameMixed(deps, relyingParty, version)));
      router.all(path, onlyPost);
    }
  }
  // The same condition as MEX's list (mex-endpoints.ts): deps.negotiate exists when authn.kerberos is enabled.
  if (deps.config.wsTrust.windowsTransport && deps.negotiate) {
    for (const version of TRUST_VERSIONS) {
      const path = wsTrustPath('windowstransport', version.path);
      router.post(path, ...windowsTransport(deps, deps.negotiate, relyingParty, version));
      router.all(path, onlyPost);
    }
  }
  return router;
}
