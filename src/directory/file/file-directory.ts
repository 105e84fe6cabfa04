import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { z } from 'zod';
import type { DirectoryUser } from '../../core/principal.js';
import { IdpError } from '../../core/errors.js';
import { parseLogin, type AuthOutcome, type Directory } from '../directory.js';
import { guidFromString, immutableIdFromBytes } from '../guid.js';
import { DUMMY_HASH, isPasswordHash, verifyPassword } from './password-hash.js';

/**
 * A directory kept in a YAML file: the embedded demo, and a stand-in for tests. It behaves like
 * AD where it matters: the same logins (UPN, DOMAIN\name, name), state revealed only after the
 * right password, and lockout after `lockoutThreshold` bad passwords (counted in memory).
 */
const fileSchema = z.strictObject({
  netbiosDomain: z.string().optional(),
  /** Bad passwords before an account locks (0 = never), as AD's lockout threshold. */
  lockoutThreshold: z.number().int().min(0).default(0),
  /** Minutes after the last bad password before the count (and a lockout) ends, as AD's lockout duration. */
  lockoutMinutes: z.number().int().min(1).default(30),
  users: z.array(z.strictObject({
    username: z.string().min(1),
    passwordHash: z.string().refine(isPasswordHash, 'an scrypt hash from `fedgate hash-password`'),
    userPrincipalName: z.string().optional(),
    mail: z.string().optional(),
    displayName: z.string().optional(),
    givenName: z.string().optional(),
    sn: z.string().optional(),
    objectGuid: z.string().optional(),
    consistencyGuid: z.string().optional(),
    objectSid: z.string().optional(),
    state: z.enum(['active', 'disabled', 'expired', 'must-change', 'password-expired', 'locked-out']).default('active'),
  })),
  /** Groups by name; members are user or group names (nesting is followed). */
  groups: z.array(z.strictObject({ name: z.string().min(1), members: z.array(z.string()) })).default([]),
});

type FileUser = z.output<typeof fileSchema>['users'][number];

const STATE_OUTCOME = {
  disabled: 'disabled',
  expired: 'account-expired',
  'must-change': 'must-change-password',
  'password-expired': 'password-expired',
  'locked-out': 'locked-out',
} as const;

export function createFileDirectory(path: string): Directory {
  let data: z.output<typeof fileSchema>;
  try {
    data = fileSchema.parse(parse(readFileSync(path, 'utf8')));
  } catch (err) {
    const detail = err instanceof z.ZodError ? err.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ') : String(err);
    throw new IdpError('configuration', 'The user file is not valid.', `${path}: ${detail}`);
  }
  /** Bad passwords per account, and when the last one came (AD's lockout observation window). */
  const badPasswords = new Map<string, { count: number; last: number }>();
  const byName = new Map(data.users.map((u) => [u.username.toLowerCase(), u]));

  const find = (login: string): FileUser | undefined => {
    const parsed = parseLogin(login);
    if (parsed.kind === 'down-level') {
      if (data.netbiosDomain && parsed.domain?.toLowerCase() !== data.netbiosDomain.toLowerCase()) return undefined;
      return byName.get(parsed.value.toLowerCase());
    }
    const value = parsed.value.toLowerCase();
    if (parsed.kind === 'plain') return byName.get(value);
    return data.users.find((u) => u.userPrincipalName?.toLowerCase() === value || u.mail?.toLowerCase() === value);
  };

  const groupsOf = (name: string): string[] => {
    const found = new Set<string>();
    const visit = (member: string) => {
      for (const g of data.groups) {
        if (g.members.includes(member) && !found.has(g.name)) {
          found.add(g.name);
          visit(g.name);
        }
      }
    };
    visit(name);
    return [...found];
  };

  const toDirectoryUser = (u: FileUser): DirectoryUser => {
    const anchor = u.consistencyGuid ?? u.objectGuid;
    const groups = groupsOf(u.username);
    return {
      dn: `uid=${u.username},file`,
      username: u.username,
      userPrincipalName: u.userPrincipalName,
      sAMAccountName: u.username,
      mail: u.mail,
      displayName: u.displayName,
      givenName: u.givenName,
      sn: u.sn,
      objectGuid: u.objectGuid?.toLowerCase(),
      objectSid: u.objectSid,
      immutableId: anchor ? immutableIdFromBytes(guidFromString(anchor)) : undefined,
      // The file holds people only: computers sign in with Kerberos, which needs AD.
      accountType: 'user',
      groups,
      groupDns: groups.map((g) => `cn=${g},file`),
    };
  };

  return {
    async authenticate(login, password): Promise<AuthOutcome> {
      const user = find(login);
      const account = user ? `uid=${user.username.toLowerCase()},file` : undefined;
      const now = Date.now();
      const bad = account ? badPasswords.get(account) : undefined;
      if (bad && now - bad.last > data.lockoutMinutes * 60_000) badPasswords.delete(account!);
      const locked = user !== undefined && (user.state === 'locked-out' ||
        (data.lockoutThreshold > 0 && (badPasswords.get(account!)?.count ?? 0) >= data.lockoutThreshold));
      // Always pay for one hash, so an unknown user takes as long as a known one.
      const ok = (await verifyPassword(password, user?.passwordHash ?? DUMMY_HASH)) && user !== undefined && password.length > 0;
      if (locked) return { outcome: 'locked-out', account };
      if (!ok || !user) {
        if (account) badPasswords.set(account, { count: (badPasswords.get(account)?.count ?? 0) + 1, last: now });
        return { outcome: 'invalid-credentials', account };
      }
      badPasswords.delete(account!);
      if (user.state !== 'active') return { outcome: STATE_OUTCOME[user.state], account };
      return { outcome: 'success', user: toDirectoryUser(user) };
    },
    async findUser(login) {
      const user = find(login);
      return user ? toDirectoryUser(user) : undefined;
    },
    async checkAccount(login): Promise<AuthOutcome> {
      const user = find(login);
      if (!user) return { outcome: 'invalid-credentials' };
      const account = `uid=${user.username.toLowerCase()},file`;
      const bad = badPasswords.get(account);
      const lockedByCount = data.lockoutThreshold > 0 && bad !== undefined && bad.count >= data.lockoutThreshold
        && Date.now() - bad.last <= data.lockoutMinutes * 60_000;
      if (user.state === 'locked-out' || lockedByCount) return { outcome: 'locked-out', account };
      if (user.state !== 'active') return { outcome: STATE_OUTCOME[user.state], account };
      return { outcome: 'success', user: toDirectoryUser(user) };
    },
    async checkHealth() {},
    describe: () => `file ${path} (${data.users.length} users)`,
    async close() {},
  };
}
