import { describe, expect, it } from 'vitest';
import { formTargets, withCspSources } from '../../src/http/csp.js';

const HELMET = "default-src 'self';form-action 'self';frame-ancestors 'none';object-src 'none'";

describe('per-page CSP', () => {
  it('narrows or extends one directive and keeps the rest of helmet\'s policy', () => {
    expect(withCspSources(HELMET, 'form-action', ['https://rp.test/acs'], 'replace'))
      .toBe("default-src 'self';form-action https://rp.test/acs;frame-ancestors 'none';object-src 'none'");
    expect(withCspSources(HELMET, 'form-action', ['https://rp.test/cb'], 'add')).toContain("form-action 'self' https://rp.test/cb;");
    expect(withCspSources(HELMET, 'frame-src', ['https://a.test/x?wa=wsignoutcleanup1.0'], 'replace'))
      .toMatch(/;frame-src https:\/\/a\.test\/x\?wa=wsignoutcleanup1\.0$/);
  });

  it('a page posting to an application may follow its redirects: the URL and its scheme, never data: or javascript:', () => {
    expect(formTargets(['https://login.microsoftonline.com/login.srf'])).toEqual(['https://login.microsoftonline.com/login.srf', 'https:']);
    expect(formTargets(['http://127.0.0.1:9/acs', 'https://a.test/acs'])).toEqual(['http://127.0.0.1:9/acs', 'https://a.test/acs', 'http:', 'https:']);
    expect(formTargets(['javascript:alert(1)'])).toEqual(['javascript:alert(1)']);
  });

  it('never writes a source that could break out of its directive', () => {
    const csp = withCspSources(HELMET, 'form-action', ["https://rp.test/ script-src 'unsafe-inline'", 'https://rp.test/a;b', 'https://ok.test/'], 'replace');
    expect(csp).toContain('form-action https://ok.test/;');
    expect(csp).not.toContain('unsafe-inline');
  });
});
