import type { Request } from 'express';
import { interactionPolicy, type KoaContextWithOIDC } from 'oidc-provider';
import type { SignInPipeline } from '../../authn/sign-in-pipeline.js';
import { requestContext } from '../../http/request-context.js';
import type { SessionCookie } from '../../http/session-cookie.js';
import type { AccountCache } from './accounts.js';
import { accountIdOf } from './accounts.js';

const { base, Check } = interactionPolicy;

export interface SsoCheckDeps {
  readonly pipeline: SignInPipeline;
  readonly cookie: SessionCookie;
  readonly accounts: AccountCache;
}

/** The provider is mounted in the Express app: its requests are Express requests. */
export const expressRequest = (ctx: KoaContextWithOIDC): Request => ctx.req as Request;

/**
 * oidc-provider's interaction policy with one more login check: fedgate's SSO session decides.
 * oidc-provider keeps its own session (cookie), but every authorization request also asks the
 * sign-in pipeline (passively) whether fedgate's session still satisfies it and names the same
 * account; when it does not (signed out of fedgate, another person signed in, idle timeout),
 * the login prompt is requested: a sign-in through the pipeline, or login_required for
 * prompt=none. Signing out of fedgate thus ends OpenID Connect single sign-on too.
 */
export function interactionPolicyWithSso(deps: SsoCheckDeps): interactionPolicy.DefaultPolicy {
  const policy = base();
  const login = policy.get('login');
  if (!login) throw new Error('oidc-provider has no login prompt');
  login.checks.add(new Check('fedgate_session', 'End-User authentication is required', 'login_required', async (ctx) => {
    const { oidc } = ctx;
    const accountId = oidc.session?.accountId;
    // Just signed in through the interaction, or no account yet (no_session asks for one).
    if (oidc.result?.login || !accountId || !oidc.client) return Check.NO_NEED_TO_PROMPT;
    const req = expressRequest(ctx);
    const loginHint = typeof oidc.params?.login_hint === 'string' ? oidc.params.login_hint : undefined;
    const started = await deps.pipeline.start({ application: oidc.client.clientId, resumePath: '/', passive: true, loginHint },
      deps.cookie.read(req), requestContext(req));
    if (started.kind !== 'signed-in' || accountIdOf(started.principal.user) !== accountId) return Check.REQUEST_PROMPT;
    await deps.accounts.remember(started.principal);
    return Check.NO_NEED_TO_PROMPT;
  }), 0);
  return policy;
}
