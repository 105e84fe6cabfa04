import type { KerberosConfig } from '../../config/schema.js';
import type { PendingSignIn } from '../../core/pending-signin.js';
import type { NetworkTest } from '../../http/client-network.js';

/**
 * When to offer Negotiate, and what a principal is in the directory. Negotiate is offered only
 * inside the corporate network to user agents known to do it silently (as AD FS's
 * WIASupportedUserAgents): anywhere else a 401 Negotiate makes browsers show a password dialog.
 */
export interface NegotiatePolicy {
  /** Whether this pending sign-in may be completed by Kerberos for this client. */
  offer(pending: PendingSignIn, client: { readonly ip: string; readonly userAgent: string | undefined }): boolean;
  /** The directory login for a principal (alice@EXAMPLE.COM), or undefined for a realm we do not accept. */
  loginFor(principal: string): string | undefined;
}

export function createNegotiatePolicy(config: KerberosConfig, isInternal: NetworkTest): NegotiatePolicy {
  const agents = config.userAgents.map((a) => (a.startsWith('=~') ? new RegExp(a.slice(2)) : a));
  const realms = new Map(config.realms.map((r) => [r.toUpperCase(), r]));
  const suffixes = new Map(Object.entries(config.upnSuffixes).map(([realm, suffix]) => [realm.toUpperCase(), suffix]));
  return {
    offer(pending, client) {
      // A request that demands a password or a new sign-in never gets a silent one.
      if (!config.enabled || pending.requiredMethod === 'password' || pending.forceFresh || pending.passive) return false;
      if (!isInternal(client.ip) || !client.userAgent) return false;
      return agents.some((a) => (typeof a === 'string' ? client.userAgent!.includes(a) : a.test(client.userAgent!)));
    },
    loginFor(principal) {
      const at = principal.lastIndexOf('@');
      if (at <= 0) return undefined;
      const name = principal.slice(0, at);
      const realm = principal.slice(at + 1).toUpperCase();
      // Service and host principals (HTTP/x, host/y) are not people.
      if (!realms.has(realm) || name.includes('/')) return undefined;
      return config.principalMapping === 'upn' ? `${name}@${suffixes.get(realm) ?? realm.toLowerCase()}` : name;
    },
  };
}
