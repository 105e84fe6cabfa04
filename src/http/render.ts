import type { ServerResponse } from 'node:http';
import { fileURLToPath } from 'node:url';
import { Eta } from 'eta';
import type { Request, Response } from 'express';
import { pickMessages, type Messages } from '../i18n/messages.js';
import { createAutopostPage, type AutopostPage } from './autopost-page.js';

/** views/ sits beside src/ and dist/ alike. */
export const VIEWS_DIR = fileURLToPath(new URL('../../views/', import.meta.url));

export interface PageChrome {
  readonly organizationName: string;
  readonly hasLogo: boolean;
  readonly helpUrl: string | undefined;
  readonly demo: boolean;
}

/** A page as HTML, in the language the browser asks for (Express and the fast lane alike). */
export type PageHtml = (template: string, data: Record<string, unknown>, acceptLanguage: string | undefined, requestId: string) => string;

export type RenderPage = ((req: Request, res: Response, template: string, data?: Record<string, unknown>, status?: number) => void)
  & { readonly html: PageHtml; readonly autopost: AutopostPage };

/** Writes a page: never cached (every page is about one person's sign-in). */
export function writeHtml(res: ServerResponse, status: number, html: string): void {
  res.statusCode = status;
  res.setHeader('Content-Type', 'text/html; charset=utf-8');
  res.setHeader('Cache-Control', 'no-store');
  res.setHeader('Content-Length', Buffer.byteLength(html));
  res.end(html);
}

/**
 * Pages are eta templates with auto-escaping on (`<%= %>` escapes; `<%~ %>` is used only for the
 * layout body). Every page gets the chosen language's messages as `t` and the branding.
 */
export function createRenderer(chrome: PageChrome, options: { cache: boolean }): RenderPage {
  const eta = new Eta({ views: VIEWS_DIR, autoEscape: true, cache: options.cache, autoTrim: false });
  const html: PageHtml = (template, data, acceptLanguage, requestId) => {
    const t: Messages = pickMessages(acceptLanguage);
    return eta.render(template, { ...data, t, chrome, requestId });
  };
  const render = (req: Request, res: Response, template: string, data: Record<string, unknown> = {}, status = 200) =>
    writeHtml(res, status, html(template, data, req.headers['accept-language'], String(req.id)));
  return Object.assign(render, { html, autopost: createAutopostPage(html) });
}
