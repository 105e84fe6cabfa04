import type { Configuration, KoaContextWithOIDC } from 'oidc-provider';
import type { OidcRelyingPartyConfig } from '../../config/schema.js';
import { formTargets, withCspSources } from '../../http/csp.js';
import type { ProviderPage } from './provider-pages.js';

/**
 * oidc-provider's page hooks (sign-out confirmation and success, the device flow's code entry,
 * confirmation and success) as fedgate pages. oidc-provider hands over its form as HTML; only
 * its action and hidden values are read from it, and the page writes its own escaped form.
 */
type Features = NonNullable<Configuration['features']>;

/** Adds a URL (and where it redirects: formTargets) to the response's CSP form-action (helmet's policy, set before the provider ran). */
export function allowFormTarget(ctx: KoaContextWithOIDC, url: string): void {
  const csp = ctx.response.get('content-security-policy');
  if (csp) ctx.set('content-security-policy', withCspSources(csp, 'form-action', formTargets([url]), 'add'));
}

const field = (form: string, name: string) => new RegExp(`name="${name}" value="([^"]*)"`).exec(form)?.[1] ?? '';
const action = (form: string) => /action="([^"]*)"/.exec(form)?.[1] ?? '';

export function providerPageHooks(pages: ProviderPage, clients: ReadonlyMap<string, OidcRelyingPartyConfig>) {
  const applicationName = (ctx: KoaContextWithOIDC) => {
    const id = ctx.oidc.client?.clientId;
    return id === undefined ? undefined : clients.get(id)?.displayName ?? id;
  };
  const html = (ctx: KoaContextWithOIDC, template: string, data: Record<string, unknown>) => {
    ctx.type = 'html';
    ctx.body = pages(ctx, template, data);
  };

  const rpInitiatedLogout: Pick<NonNullable<Features['rpInitiatedLogout']>, 'logoutSource' | 'postLogoutSuccessSource'> = {
    logoutSource: async (ctx, form) => {
      // The confirmation redirects to the (registered, already checked) post-logout URI: browsers
      // hold that redirect to this page's form-action.
      const back = ctx.oidc.params?.post_logout_redirect_uri;
      if (typeof back === 'string') allowFormTarget(ctx, back);
      html(ctx, 'oidc-logout', { action: action(form), xsrf: field(form, 'xsrf'), applicationName: applicationName(ctx) });
    },
    postLogoutSuccessSource: async (ctx) => html(ctx, 'signed-out', {}),
  };

  const deviceFlow: Pick<NonNullable<Features['deviceFlow']>, 'userCodeInputSource' | 'userCodeConfirmSource' | 'successSource'> = {
    userCodeInputSource: async (ctx, form, _out, err) => html(ctx, 'oidc-device', {
      step: 'input', action: action(form), xsrf: field(form, 'xsrf'), userCode: /value="([^"]*)" (?:pattern="[^"]*" inputmode="numeric" )?type="text"/.exec(form)?.[1] ?? '',
      error: err ? (err.name === 'AbortedError' ? 'The sign-in was cancelled.' : 'That code is not valid or has expired. Check it and try again.') : undefined,
    }),
    userCodeConfirmSource: async (ctx, form, _client, _deviceInfo, userCode) => html(ctx, 'oidc-device', {
      step: 'confirm', action: action(form), xsrf: field(form, 'xsrf'), userCode, applicationName: applicationName(ctx),
    }),
    successSource: async (ctx) => html(ctx, 'oidc-device', { step: 'done', applicationName: applicationName(ctx) }),
  };

  return { rpInitiatedLogout, deviceFlow };
}
