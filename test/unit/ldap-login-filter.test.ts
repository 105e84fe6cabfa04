import { AndFilter, BerReader, BerWriter, EqualityFilter, Filter, FilterParser, OrFilter, SearchFilter } from 'ldapts';
import { describe, expect, it } from 'vitest';
import { buildLoginFilter, type LoginFilterConfig } from '../../src/directory/ldap/login-filter.js';

const OBJECT_FILTER = '(|(objectClass=user)(objectClass=person))';

const AD: LoginFilterConfig = {
  loginAttributes: ['userPrincipalName', 'sAMAccountName', 'mail'],
  userObjectFilter: OBJECT_FILTER,
  netbiosDomain: 'EXAMPLE',
  userFilter: undefined,
};
const WITH_USER_FILTER: LoginFilterConfig = { ...AD, userFilter: '(&(objectCategory=person)(sAMAccountName={login}))' };

function build(login: string, config: LoginFilterConfig = AD): Filter {
  const filter = buildLoginFilter(login, config);
  if (!filter) throw new Error(`no filter for ${JSON.stringify(login)}`);
  return filter;
}

/** The login part of (&(objectFilter)(loginFilter)). */
function loginPart(filter: Filter): Filter {
  expect(filter).toBeInstanceOf(AndFilter);
  const and = filter as AndFilter;
  expect(and.filters).toHaveLength(2);
  expect(and.filters[0]!.toString()).toBe(OBJECT_FILTER);
  return and.filters[1]!;
}

/** Every leaf of a filter tree. */
function leaves(filter: Filter): Filter[] {
  if (filter instanceof AndFilter || filter instanceof OrFilter) return filter.filters.flatMap(leaves);
  return [filter];
}

/** The filter as it goes over the wire, decoded again: what the server will evaluate. */
function overTheWire(filter: Filter): Filter {
  const writer = new BerWriter();
  filter.write(writer);
  return FilterParser.parse(new BerReader(writer.buffer));
}

/** With the default loginAttributes: one equality test per attribute, all with the literal value. */
function expectLiteralEqualities(filter: Filter, value: string): void {
  const part = loginPart(filter);
  expect(part).toBeInstanceOf(OrFilter);
  const tests = leaves(part);
  expect(tests.map((f) => (f as EqualityFilter).attribute)).toEqual(['userPrincipalName', 'sAMAccountName', 'mail']);
  for (const f of tests) {
    expect(f).toBeInstanceOf(EqualityFilter);
    expect(f.type).toBe(SearchFilter.equalityMatch);
    expect((f as EqualityFilter).value).toBe(value);
  }
  // The encoded filter decodes to the same equality tests: no substring or presence test appears.
  for (const f of leaves(overTheWire(filter))) expect(f.type).toBe(SearchFilter.equalityMatch);
}

describe('login filter', () => {
  it('login filter: a UPN is looked up whole in every login attribute, within the user object filter', () => {
    const filter = build('alice@example.test');
    expectLiteralEqualities(filter, 'alice@example.test');
    expect(filter.toString()).toBe(
      `(&${OBJECT_FILTER}(|(userPrincipalName=alice@example.test)(sAMAccountName=alice@example.test)(mail=alice@example.test)))`,
    );
  });

  it('login filter: a down-level EXAMPLE\\alice is looked up as alice', () => {
    expectLiteralEqualities(build('EXAMPLE\\alice'), 'alice');
  });

  it('login filter: the NetBIOS domain is compared case-insensitively', () => {
    expectLiteralEqualities(build('example\\alice'), 'alice');
    expectLiteralEqualities(build('Example\\alice'), 'alice');
  });

  it('login filter: a down-level login for another NetBIOS domain names no one', () => {
    expect(buildLoginFilter('OTHER\\alice', AD)).toBeUndefined();
    expect(buildLoginFilter('EXAMPLE2\\alice', AD)).toBeUndefined();
  });

  it('login filter: without a configured NetBIOS domain any down-level domain is accepted', () => {
    expectLiteralEqualities(build('OTHER\\alice', { ...AD, netbiosDomain: undefined }), 'alice');
  });

  it('login filter: a plain name is looked up as it is', () => {
    expectLiteralEqualities(build('alice'), 'alice');
  });

  it('login filter: surrounding spaces are trimmed', () => {
    expectLiteralEqualities(build('  alice  '), 'alice');
  });

  it('login filter: an empty login, or a domain with no name, names no one', () => {
    expect(buildLoginFilter('', AD)).toBeUndefined();
    expect(buildLoginFilter('   ', AD)).toBeUndefined();
    expect(buildLoginFilter('EXAMPLE\\', AD)).toBeUndefined();
  });

  it('login filter: the configured login attributes are the ones searched', () => {
    const filter = build('alice', { ...AD, loginAttributes: ['uid'] });
    expect(filter.toString()).toBe(`(&${OBJECT_FILTER}(|(uid=alice)))`);
  });

  it('login filter: wildcards and parentheses are data, never filter syntax', () => {
    for (const login of ['*', 'a*', '*)(objectClass=*', 'alice)(|(cn=*', 'x*)(|(sAMAccountName=*']) {
      const filter = build(login);
      expectLiteralEqualities(filter, login);
      expect(filter.toString()).not.toContain('*');
    }
  });

  it('login filter: a wildcard login does not match other accounts, only the literal value', () => {
    const filter = build('a*');
    expect(filter.matches({ objectClass: 'user', sAMAccountName: 'alice' })).toBe(false);
    expect(filter.matches({ objectClass: 'user', sAMAccountName: 'a*' })).toBe(true);
    expect(build('alice').matches({ objectClass: 'user', sAMAccountName: 'alice' })).toBe(true);
  });

  it('login filter: the string form escapes *, (, ) and \\ as RFC 4515 hex', () => {
    expect(loginPart(build('a*)(cn=*')).toString()).toBe(
      '(|(userPrincipalName=a\\2a\\29\\28cn=\\2a)(sAMAccountName=a\\2a\\29\\28cn=\\2a)(mail=a\\2a\\29\\28cn=\\2a))',
    );
    expect(loginPart(build('EXAMPLE\\al\\ice')).toString()).toContain('(sAMAccountName=al\\5cice)');
  });

  it('login filter: NUL and other control characters are refused', () => {
    for (const login of ['alice\u0000', 'alice\u0000*', 'al\u0000ice', 'ali\nce', 'ali\rce', 'al\tice', 'alice\u001b', 'alice\u007f', 'EXAMPLE\\ali\u0001ce']) {
      expect(buildLoginFilter(login, AD), JSON.stringify(login)).toBeUndefined();
      expect(buildLoginFilter(login, WITH_USER_FILTER), JSON.stringify(login)).toBeUndefined();
    }
  });

  it('login filter: control characters in the domain part are refused too', () => {
    expect(buildLoginFilter('EX\u0000AMPLE\\alice', { ...AD, netbiosDomain: undefined })).toBeUndefined();
  });

  it('login filter: non-ASCII names are ordinary data', () => {
    expectLiteralEqualities(build('zoë@example.test'), 'zoë@example.test');
  });
});

describe('login filter with a configured userFilter', () => {
  it('user filter: {login} is replaced by the login inside the user object filter', () => {
    expect(build('alice', WITH_USER_FILTER).toString()).toBe(`(&${OBJECT_FILTER}(&(objectCategory=person)(sAMAccountName=alice)))`);
  });

  it('user filter: a down-level login puts only the name into {login}', () => {
    expect(loginPart(build('EXAMPLE\\alice', WITH_USER_FILTER)).toString()).toBe('(&(objectCategory=person)(sAMAccountName=alice))');
  });

  it('user filter: wildcards and parentheses in the login stay one literal equality value', () => {
    for (const login of ['*', 'a*', 'a*)(cn=*', 'alice)(|(objectClass=*']) {
      const part = loginPart(build(login, WITH_USER_FILTER));
      const tests = leaves(part);
      expect(tests).toHaveLength(2);
      const sam = tests[1] as EqualityFilter;
      expect(sam).toBeInstanceOf(EqualityFilter);
      expect(sam.attribute).toBe('sAMAccountName');
      expect(sam.value).toBe(login);
      for (const f of leaves(overTheWire(part))) expect(f.type).toBe(SearchFilter.equalityMatch);
    }
  });

  it('user filter: a backslash in the login is escaped, not taken as an escape sequence', () => {
    const sam = leaves(loginPart(build('EXAMPLE\\al\\2aice', WITH_USER_FILTER)))[1] as EqualityFilter;
    expect(sam.value).toBe('al\\2aice');
  });

  it('user filter: $& and other replacement patterns in the login are literal text', () => {
    const config = { ...AD, userFilter: '(|(uid={login})(mail={login}))' };
    expect(loginPart(build('$&x', config)).toString()).toBe('(|(uid=$&x)(mail=$&x))');
    expect(loginPart(build("$'$`$$", config)).toString()).toBe("(|(uid=$'$`$$)(mail=$'$`$$))");
  });

  it('user filter: every {login} is replaced', () => {
    const config = { ...AD, userFilter: '(|(uid={login})(mail={login}))' };
    expect(loginPart(build('bob', config)).toString()).toBe('(|(uid=bob)(mail=bob))');
  });
});
