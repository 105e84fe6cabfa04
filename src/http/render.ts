import { fileURLToPath } from 'node:url';
import { Eta } from 'eta';
import type { Request, Response } from 'express';
import { pickMessages, type Messages } from '../i18n/messages.js';

/** views/ sits beside src/ and dist/ alike. */
export const VIEWS_DIR = fileURLToPath(new URL('../../views/', import.meta.url));

export interface PageChrome {
  readonly organizationName: string;
  readonly hasLogo: boolean;
  readonly helpUrl: string | undefined;
  readonly demo: boolean;
}

export type RenderPage = (req: Request, res: Response, template: string, data?: Record<string, unknown>, status?: number) => void;

/**
 * Pages are eta templates with auto-escaping on (`<%= %>` escapes; `<%~ %>` is used only for the
 * layout body). Every page gets the chosen language's messages as `t` and the branding.
 */
export function createRenderer(chrome: PageChrome, options: { cache: boolean }): RenderPage {
  const eta = new Eta({ views: VIEWS_DIR, autoEscape: true, cache: options.cache, autoTrim: false });
  return (req, res, template, data = {}, status = 200) => {
    const t: Messages = pickMessages(req.headers['accept-language']);
    const html = eta.render(template, { ...data, t, chrome, requestId: String(req.id) });
    res.status(status).type('html').set('Cache-Control', 'no-store').send(html);
  };
}
