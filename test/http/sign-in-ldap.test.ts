import request from 'supertest';
import { describe, expect, it } from 'vitest';
import type { LdapDirectoryConfig } from '../../src/config/schema.js';
import { sambaDirectoryConfig, slapdDirectoryConfig } from '../harness/directories.js';
import { startTestApp } from '../harness/app.js';
import { USERS } from '../harness/users.js';
import { location, signIn } from './sign-in-flow.js';

/**
 * The whole sign-in, over HTTP through the real app, against real directory servers: OpenLDAP
 * slapd and Samba as an Active Directory domain controller, both started by the test harness.
 */
const appWith = (directoryConfig: LdapDirectoryConfig) => startTestApp({}, { directoryConfig });

describe.each([
  ['OpenLDAP slapd', () => slapdDirectoryConfig()],
  ['Samba AD', () => sambaDirectoryConfig()],
])('sign-in page against %s', (_name, directoryConfig) => {
  it('signs alice in by UPN and shows her directory claims, then SSO needs no directory call', async () => {
    const t = await appWith(directoryConfig());
    const { agent, res } = await signIn(t.app, USERS.alice.upn, USERS.alice.password);
    expect(res.status).toBe(303);
    await agent.get(location(res));
    const home = await agent.get('/');
    expect(home.text).toContain(USERS.alice.upn);
    expect(home.text).toMatch(/engineers, staff|staff, engineers/);
    expect(home.text).toMatch(/S-1-5-21-\d+-\d+-\d+-\d+/);
    let directoryCalls = 0;
    const { authenticate, findUser } = t.services.directory;
    t.services.directory.authenticate = (...a) => { directoryCalls++; return authenticate(...a); };
    t.services.directory.findUser = (...a) => { directoryCalls++; return findUser(...a); };
    expect((await agent.get('/signin')).headers.location).toBe('/');
    expect(directoryCalls).toBe(0);
  });

  it.each([
    ['EXAMPLE\\bob', USERS.bob.password, 303, undefined],
    ['alice', 'wrong-password', 401, 'Incorrect user name or password'],
    ['no-such-user', 'wrong-password', 401, 'Incorrect user name or password'],
    ['carol', USERS.carol.password, 403, 'Your account has been disabled'],
    ['dave', USERS.dave.password, 403, 'Your account has expired'],
    ['erin', USERS.erin.password, 403, 'You must change your password'],
  ])('%s with password %s: status %i, its own message and audit outcome', async (login, password, status, message) => {
    const t = await appWith(directoryConfig());
    const { res } = await signIn(t.app, login, password);
    expect(res.status).toBe(status);
    if (message) {
      expect(res.text).toContain(message);
      expect(t.audits('signin.failure')).toHaveLength(1);
    } else {
      expect(t.audits('signin.success')).toHaveLength(1);
    }
    expect(t.logText()).not.toContain(password);
  });
});

describe('an unreachable directory (LDAP)', () => {
  it('says "temporarily unavailable" and /readyz is 503 when no server answers', async () => {
    const t = await appWith(slapdDirectoryConfig({ urls: ['ldap://127.0.0.1:1'], connectTimeout: '1s' }));
    const { res } = await signIn(t.app, USERS.alice.upn, USERS.alice.password);
    expect(res.status).toBe(503);
    expect(res.text).toContain('temporarily unavailable');
    expect(t.audits('signin.directory_unavailable')).toHaveLength(1);
    expect((await request(t.app).get('/readyz')).status).toBe(503);
    await t.services.directory.close();
  });

  it('fails over to the second server when the first is down', async () => {
    const live = slapdDirectoryConfig();
    const t = await appWith(slapdDirectoryConfig({ urls: ['ldap://127.0.0.1:1', ...live.urls], connectTimeout: '1s' }));
    const { res } = await signIn(t.app, USERS.alice.upn, USERS.alice.password);
    expect(res.status).toBe(303);
    expect((await request(t.app).get('/readyz')).status).toBe(200);
    await t.services.directory.close();
  });
});
