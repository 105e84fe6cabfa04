import type { ServerResponse } from 'node:http';
import { fileURLToPath } from 'node:url';
import { Eta } from 'eta';
import type { Request, Response } from 'express';
import { pickMessages, type Messages } from '../i18n/messages.js';
import { createAutopostPage, type AutopostPage } from './autopost-page.js';
import { narrowPageCsp } from './csp.js';

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

/** A form that posts a token or protocol response to an application's registered URL. */
export interface PostForm {
  readonly action: string;
  readonly fields: Readonly<Record<string, string>>;
}

export type RenderPage = ((req: Request, res: Response, template: string, data?: Record<string, unknown>, status?: number) => void)
  & {
    readonly html: PageHtml;
    readonly autopost: AutopostPage;
    /** Sends the auto-post page of `form` (writeFormPage). */
    readonly post: (req: Request, res: Response, form: PostForm) => void;
  };

/** Writes a page: never cached (every page is about one person's sign-in). */
export function writeHtml(res: ServerResponse, status: number, html: string): void {
  res.statusCode = status;
  res.setHeader('Content-Type', 'text/html; charset=utf-8');
  res.setHeader('Cache-Control', 'no-store');
  res.setHeader('Content-Length', Buffer.byteLength(html));
  res.end(html);
}

/** A page whose form posts to `action` (a registered URL): its CSP lets the form go there (csp.ts). */
export function writeFormPage(res: ServerResponse, action: string, html: string): void {
  narrowPageCsp(res, 'form-action', [action]);
  writeHtml(res, 200, html);
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
  const autopost = createAutopostPage(html);
  const post = (req: Request, res: Response, form: PostForm) =>
    writeFormPage(res, form.action, autopost(form.action, Object.entries(form.fields), req.headers['accept-language'], String(req.id)));
  return Object.assign(render, { html, autopost, post });
}
