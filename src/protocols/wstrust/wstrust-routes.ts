import { Router } from 'express';
import type { NegotiateDeps } from '../../authn/login-routes.js';
import type { SignInPipeline } from '../../authn/sign-in-pipeline.js';
import type { Config } from '../../config/schema.js';
import type { NetworkTest } from '../../http/client-network.js';
import type { IssueSignInResponse } from '../wsfed/issue-token.js';

/**
 * WS-Trust active endpoints at AD FS's paths (entra-federation.md §3): usernamemixed and
 * windowstransport, 2005 and 1.3. (Being built: issue 8.)
 */
export interface WsTrustRouteDeps {
  readonly config: Config;
  readonly pipeline: SignInPipeline;
  /** The WS-Fed token writer: the same SAML 1.1 assertion as passive sign-in. */
  readonly issue: IssueSignInResponse;
  readonly isInternal: NetworkTest;
  /** The Kerberos acceptor, when authn.kerberos is configured (windowstransport). */
  readonly negotiate: NegotiateDeps | undefined;
}

export function wsTrustRoutes(_deps: WsTrustRouteDeps): Router {
  return Router();
}
