import { describe, expect, it } from 'vitest';
import { createRenderer } from '../../src/http/render.js';

/** The auto-post page built from its cached skeleton is the page eta renders, byte for byte. */
describe('auto-post page', () => {
  const chrome = { organizationName: 'Contoso <IT> & "Co"', hasLogo: false, helpUrl: 'https://help.test/?a=1&b=2', demo: true };
  const render = createRenderer(chrome, { cache: true });
  const values = ['', 'plain', '"><script>alert(1)</script>&amp;\'<!--', 'Zoë ünïcode 𝄞', '<t:RequestSecurityTokenResponse xmlns:t="http://schemas.xmlsoap.org/ws/2005/02/trust"><a b="&amp;&lt;"/></t:RequestSecurityTokenResponse>',
    'fedgate0v1x', '\n\ttabs\r\n'];

  it('equals eta for every language, value and field list, however often it is reused', () => {
    for (const language of [undefined, 'fr-FR,fr;q=0.9', 'de', 'xx']) {
      for (const action of ['https://login.microsoftonline.com/login.srf', 'https://sp.test/acs?x=1&y="2"']) {
        for (const value of values) {
          for (const fields of [[['wa', 'wsignin1.0'], ['wresult', value]], [['wa', 'wsignin1.0'], ['wresult', value], ['wctx', value]], [['SAMLResponse', value], ['RelayState', value]]] as [string, string][][]) {
            const expected = render.html('autopost', { action, fields }, language, 'request-1');
            expect(render.autopost(action, fields, language, 'request-1')).toBe(expected);
          }
        }
      }
    }
  });
});
