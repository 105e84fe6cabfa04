import { describe, expect, it } from 'vitest';
import { DUMMY_HASH, hashPassword, isPasswordHash, verifyPassword } from '../../src/directory/file/password-hash.js';

describe('password hash', () => {
  it('password hash: a hash verifies its own password and has the scrypt$N$r$p$salt$hash form', async () => {
    const hash = await hashPassword('correct horse battery staple');
    expect(hash).toMatch(/^scrypt\$16384\$8\$1\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{43}$/);
    expect(isPasswordHash(hash)).toBe(true);
    expect(await verifyPassword('correct horse battery staple', hash)).toBe(true);
  });

  it('password hash: a wrong password, a case change, a prefix and the empty password do not verify', async () => {
    const hash = await hashPassword('Passw0rd!alice');
    for (const wrong of ['Passw0rd!bob', 'passw0rd!alice', 'Passw0rd!', 'Passw0rd!alice ', '']) {
      expect(await verifyPassword(wrong, hash), wrong).toBe(false);
    }
  });

  it('password hash: the same password hashes to a different salt and hash each time', async () => {
    const hashes = await Promise.all(Array.from({ length: 5 }, () => hashPassword('same')));
    const salts = hashes.map((h) => h.split('$')[4]);
    expect(new Set(hashes).size).toBe(5);
    expect(new Set(salts).size).toBe(5);
    for (const h of hashes) expect(await verifyPassword('same', h)).toBe(true);
  });

  it('password hash: Unicode passwords are compared in NFC', async () => {
    const hash = await hashPassword('caf\u00e9');
    expect(await verifyPassword('cafe\u0301', hash)).toBe(true);
  });

  it('password hash: malformed hashes verify nothing and never throw', async () => {
    const good = await hashPassword('pw');
    const [, , , , salt, key] = good.split('$');
    const malformed = [
      '', 'pw', 'scrypt', `bcrypt$16384$8$1$${salt}$${key}`, `scrypt$16384$8$1$${salt}`,
      `scrypt$16384$8$1$${salt}$${key}$extra`, `scrypt$16384$8$1$${salt}$`, `scrypt$16384$8$1$${salt}$AAAA`,
      `scrypt$abc$8$1$${salt}$${key}`, `scrypt$3$8$1$${salt}$${key}`, `scrypt$0$8$1$${salt}$${key}`,
      `scrypt$16384$0$1$${salt}$${key}`, `scrypt$1048576$64$1$${salt}$${key}`,
    ];
    for (const hash of malformed) {
      await expect(verifyPassword('pw', hash), hash).resolves.toBe(false);
    }
  });

  it('password hash: isPasswordHash refuses text and parameters scrypt cannot use', () => {
    for (const bad of ['', 'plaintext', 'scrypt$16384$8$1$c2FsdA', 'scrypt$3$8$1$c2FsdA$aGFzaA', 'scrypt$16384$0$1$c2FsdA$aGFzaA', 'scrypt$1048576$64$1$c2FsdA$aGFzaA']) {
      expect(isPasswordHash(bad), bad).toBe(false);
    }
  });

  it('password hash: the dummy hash used for unknown users is well formed and matches no password', async () => {
    expect(isPasswordHash(DUMMY_HASH)).toBe(true);
    expect(await verifyPassword('', DUMMY_HASH)).toBe(false);
    expect(await verifyPassword('password', DUMMY_HASH)).toBe(false);
  });
});
