import { AndFilter, EqualityFilter, Filter, FilterParser, OrFilter } from 'ldapts';
import type { LdapDirectoryConfig } from '../../config/schema.js';
import { parseLogin } from '../directory.js';

const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f]/;

export type LoginFilterConfig = Pick<LdapDirectoryConfig, 'loginAttributes' | 'userFilter' | 'userObjectFilter' | 'netbiosDomain'>;

/**
 * The search filter that finds the account a typed login names: `alice@example.test`,
 * `EXAMPLE\alice` or `alice`. What the person typed only ever becomes the value of an
 * EqualityFilter (encoded as an octet string: `*` and `)` are data, not syntax) or, with a
 * configured userFilter, an RFC 4515-escaped value. Returns undefined when the login cannot name
 * anyone here: empty, another NetBIOS domain, or control characters (AD compares C strings, so
 * `alice\0` would find alice under a spelling that per-login failure counters do not know).
 */
export function buildLoginFilter(login: string, config: LoginFilterConfig): Filter | undefined {
  const parsed = parseLogin(login);
  if (parsed.value.length === 0 || CONTROL_CHARACTERS.test(`${parsed.domain ?? ''}${parsed.value}`)) return undefined;
  if (parsed.kind === 'down-level' && config.netbiosDomain !== undefined &&
      parsed.domain?.toLowerCase() !== config.netbiosDomain.toLowerCase()) {
    return undefined;
  }
  const objectFilter = FilterParser.parseString(config.userObjectFilter);
  let loginFilter: Filter;
  if (config.userFilter !== undefined) {
    const escaped = Filter.escape(parsed.value);
    // A function replacer: a string replacement would interpret `$&` and friends in the login.
    loginFilter = FilterParser.parseString(config.userFilter.replaceAll('{login}', () => escaped));
  } else {
    loginFilter = new OrFilter({
      filters: config.loginAttributes.map((attribute) => new EqualityFilter({ attribute, value: parsed.value })),
    });
  }
  return new AndFilter({ filters: [objectFilter, loginFilter] });
}
