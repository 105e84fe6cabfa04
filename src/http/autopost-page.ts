import { randomBytes } from 'node:crypto';
import { pickMessages } from '../i18n/messages.js';
import type { PageHtml } from './render.js';

/** The page that posts a token or protocol response to an application (views/autopost.eta). */
export type AutopostPage = (action: string, fields: readonly (readonly [string, string])[], acceptLanguage: string | undefined, requestId: string) => string;

interface Skeleton {
  /** The page between the values: parts[i], value slots[i], parts[i + 1], ... */
  readonly parts: readonly string[];
  /** Which value goes in each gap (-1: the request id). */
  readonly slots: readonly number[];
}

/**
 * What eta's XMLEscape does, as native replaceAll passes: twice as fast on a 5 KB token, whose
 * every element and attribute has characters to escape.
 */
function escapeHtml(value: string): string {
  return /[&<>"']/.test(value)
    ? value.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('"', '&quot;').replaceAll("'", '&#39;')
    : value;
}

const MAX_SKELETONS = 512;

/**
 * The auto-post page at the rate tokens are issued. The template stays the one source of the page:
 * eta renders it once per language, reply URL and field names with a marker where each value goes,
 * and each page is then those pieces and the values, escaped as eta escapes them. Reply URLs are
 * registered, so there are few skeletons; the cache is bounded all the same. The result is the
 * page eta would have rendered, byte for byte (test/http/autopost-page.test.ts).
 */
export function createAutopostPage(html: PageHtml): AutopostPage {
  const nonce = randomBytes(12).toString('hex');
  const marker = (slot: number) => `fedgate${nonce}v${slot + 1}x`;
  const markers = new RegExp(`fedgate${nonce}v(\\d+)x`, 'g');
  const skeletons = new Map<string, Skeleton>();

  const skeleton = (action: string, names: readonly string[], acceptLanguage: string | undefined): Skeleton => {
    const page = html('autopost', { action, fields: names.map((name, i) => [name, marker(i)]) }, acceptLanguage, marker(-1));
    const parts: string[] = [];
    const slots: number[] = [];
    let last = 0;
    for (const m of page.matchAll(markers)) {
      parts.push(page.slice(last, m.index));
      last = m.index + m[0].length;
      slots.push(Number(m[1]) - 1);
    }
    parts.push(page.slice(last));
    return { parts, slots };
  };

  return (action, fields, acceptLanguage, requestId) => {
    const names = fields.map(([name]) => name);
    const key = `${pickMessages(acceptLanguage).lang}\n${action}\n${names.join('\n')}`;
    let found = skeletons.get(key);
    if (!found) {
      if (skeletons.size >= MAX_SKELETONS) skeletons.clear();
      found = skeleton(action, names, acceptLanguage);
      skeletons.set(key, found);
    }
    let out = found.parts[0]!;
    found.slots.forEach((slot, i) => {
      out += escapeHtml(slot < 0 ? requestId : fields[slot]![1]) + found.parts[i + 1]!;
    });
    return out;
  };
}
