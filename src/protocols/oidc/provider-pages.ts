import { Eta } from 'eta';
import type { KoaContextWithOIDC } from 'oidc-provider';
import { pickMessages } from '../../i18n/messages.js';
import { VIEWS_DIR, type PageChrome } from '../../http/render.js';

/**
 * fedgate's pages (views/, auto-escaped) as HTML strings for oidc-provider's hooks, which answer
 * through Koa rather than Express: the same templates, layout and messages as every other page.
 */
export type ProviderPage = (ctx: KoaContextWithOIDC, template: string, data?: Record<string, unknown>) => string;

export function createProviderPages(chrome: PageChrome): ProviderPage {
  const eta = new Eta({ views: VIEWS_DIR, autoEscape: true, cache: true, autoTrim: false });
  return (ctx, template, data = {}) => {
    ctx.set('Cache-Control', 'no-store');
    return eta.render(template, { ...data, t: pickMessages(ctx.get('accept-language')), chrome, requestId: String((ctx.req as { id?: unknown }).id ?? '') });
  };
}
