import { createHash } from 'node:crypto';
import type { KoaContextWithOIDC, Provider } from 'oidc-provider';
import type { SessionCookie } from '../../http/session-cookie.js';
import type { Logger } from '../../observability/logger.js';
import type { Sessions } from '../../session/sessions.js';
import type { StateStore } from '../../state/state-store.js';
import { expressRequest } from './sso-check.js';

/**
 * Back-channel logout (OpenID Connect Back-Channel Logout 1.0) when the person signs out anywhere
 * else: the sign-out page, wsignout1.0, a SAML LogoutRequest. oidc-provider sends logout tokens only
 * from its own end_session, and only knows its own session; so whenever it authorizes a client that
 * takes back-channel logout, the account and the sid it gave that client are remembered under
 * fedgate's session, and when that session ends, each such client gets its signed logout token
 * (oidc-provider's own Client#backchannelLogout: the sub per the client's subject type, the sid).
 */
export interface BackchannelLogout {
  /** Tells the OIDC clients among `applications` that the sign-on `ssoId` (SsoSession.ssoId) ended. */
  signedOut(ssoId: string, applications: readonly string[]): Promise<void>;
}

interface Authorization {
  readonly accountId: string;
  readonly sid: string;
}

const key = (ssoId: string, clientId: string) => `oidc:backchannel:${ssoId}:${createHash('sha256').update(clientId).digest('base64url')}`;

export function trackBackchannelLogout(provider: Provider, deps: { store: StateStore; sessions: Sessions; cookie: SessionCookie; log: Logger; ttlMs: number }): BackchannelLogout {
  provider.on('authorization.success', (ctx: KoaContextWithOIDC) => {
    const { client, session } = ctx.oidc;
    const sessionId = deps.cookie.read(expressRequest(ctx));
    if (!client?.backchannelLogoutUri || !session?.accountId || !sessionId) return;
    const sid = session.sidFor(client.clientId);
    const accountId = session.accountId;
    if (typeof sid !== 'string') return;
    deps.sessions.use(sessionId)
      .then((sso) => (sso ? deps.store.set<Authorization>(key(sso.ssoId, client.clientId), { accountId, sid }, deps.ttlMs) : undefined))
      .catch((err: unknown) => deps.log.warn({ client: client.clientId, err: String(err) }, 'oidc: could not remember the authorization for back-channel logout'));
  });

  return {
    async signedOut(ssoId, applications) {
      await Promise.all(applications.map(async (clientId) => {
        const authorization = await deps.store.take<Authorization>(key(ssoId, clientId));
        if (!authorization) return;
        const client = await provider.Client.find(clientId);
        if (!client?.backchannelLogoutUri) return;
        try {
          // Client#backchannelLogout is what oidc-provider's end_session calls; its typings omit it.
          await (client as unknown as { backchannelLogout(sub: string, sid: string): Promise<void> }).backchannelLogout(authorization.accountId, authorization.sid);
          deps.log.info({ client: clientId }, 'oidc: back-channel logout sent');
        } catch (err) {
          deps.log.warn({ client: clientId, err: err instanceof Error ? err.message : String(err) }, 'oidc: back-channel logout failed');
        }
      }));
    },
  };
}
