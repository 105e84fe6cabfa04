import type { Request } from 'express';
import { interactionPolicy, type Grant, type KoaContextWithOIDC } from 'oidc-provider';
import type { SignInPipeline } from '../../authn/sign-in-pipeline.js';
import { requestContext } from '../../http/request-context.js';
import type { SessionCookie } from '../../http/session-cookie.js';
import type { Principal } from '../../core/principal.js';
import { accountIdOf, type AccountCache } from './accounts.js';

const { base, Check, Prompt } = interactionPolicy;

export interface SsoCheckDeps {
  readonly pipeline: SignInPipeline;
  readonly cookie: SessionCookie;
  readonly accounts: AccountCache;
  readonly loadExistingGrant: (ctx: KoaContextWithOIDC) => Promise<Grant | undefined>;
}

/** The provider is mounted in the Express app: its requests are Express requests. */
export const expressRequest = (ctx: KoaContextWithOIDC): Request => ctx.req as Request;

/** The login an interaction records for a principal (also used when the SSO session answers). */
export function loginOf(accountId: string, principal: Principal) {
  return {
    accountId,
    ts: Math.floor(Date.parse(principal.authentication.instant) / 1000),
    amr: [principal.authentication.kind === 'kerberos' ? 'wia' : 'pwd'],
  };
}

/**
 * oidc-provider's interaction policy, with fedgate's SSO session deciding who is signed in.
 * oidc-provider keeps its own session (cookie); on every authorization request a first prompt
 * (never shown) asks the sign-in pipeline, passively, whether fedgate's session satisfies the
 * request (prompt=login, max_age, login_hint):
 * - the provider has no account yet (signed in through WS-Fed or SAML): it takes fedgate's, so
 *   single sign-on across protocols works even for prompt=none;
 * - the provider names an account, but fedgate's session is gone (signed out anywhere, idle) or
 *   names another person: the login prompt is requested (a sign-in through the pipeline, or
 *   login_required for prompt=none). Signing out of fedgate thus ends OpenID Connect SSO too.
 */
export function interactionPolicyWithSso(deps: SsoCheckDeps): interactionPolicy.DefaultPolicy {
  const satisfied = new WeakMap<object, boolean>();

  /** Signs the provider's session in as fedgate's principal, as oidc-provider's resume and loadAccount/loadGrant would. */
  const adopt = async (ctx: KoaContextWithOIDC, principal: Principal) => {
    const { oidc } = ctx;
    const { session, client } = oidc;
    if (!session || !client) return;
    const accountId = await deps.accounts.remember(principal);
    const { ts, amr } = loginOf(accountId, principal);
    session.loginAccount({ accountId, loginTs: ts, amr, transient: true });
    oidc.entity('Account', await deps.accounts.findAccount(ctx, accountId));
    let grant = await deps.loadExistingGrant(ctx);
    if (grant?.jti) {
      session.ensureClientContainer(client.clientId);
      session.grantIdFor(client.clientId, grant.jti);
    } else {
      grant = new oidc.provider.Grant({ accountId, clientId: client.clientId });
    }
    oidc.entity('Grant', grant);
  };

  const sync = new Check('fedgate_sso', 'fedgate single sign-on', async (ctx) => {
    const { oidc } = ctx;
    // Just signed in through the interaction: that sign-in is the answer.
    if (oidc.result?.login || !oidc.client || !oidc.session) return Check.NO_NEED_TO_PROMPT;
    const req = expressRequest(ctx);
    const params = oidc.params ?? {};
    const maxAge = Number(params.max_age);
    const started = await deps.pipeline.start({
      application: oidc.client.clientId, resumePath: '/', passive: true,
      forceFresh: oidc.prompts.has('login'),
      maxAuthAgeMs: params.max_age !== undefined && Number.isSafeInteger(maxAge) ? maxAge * 1000 : undefined,
      loginHint: typeof params.login_hint === 'string' ? params.login_hint : undefined,
    }, deps.cookie.read(req), requestContext(req));
    const principal = started.kind === 'signed-in' ? started.principal : undefined;
    const current = oidc.session.accountId;
    // (The account cache was written when this person signed in, and outlives the session.)
    if (principal && current === undefined) await adopt(ctx, principal);
    satisfied.set(ctx, principal !== undefined && oidc.session.accountId === accountIdOf(principal.user));
    return Check.NO_NEED_TO_PROMPT;
  });

  const policy = base();
  policy.add(new Prompt({ name: 'fedgate_sso', requestable: false }, sync), 0);
  const login = policy.get('login');
  if (!login) throw new Error('oidc-provider has no login prompt');
  login.checks.add(new Check('fedgate_session', 'End-User authentication is required', 'login_required', (ctx) =>
    ctx.oidc.result?.login || satisfied.get(ctx) ? Check.NO_NEED_TO_PROMPT : Check.REQUEST_PROMPT), 0);
  return policy;
}
