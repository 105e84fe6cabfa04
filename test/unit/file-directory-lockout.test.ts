import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createFileDirectory } from '../../src/directory/file/file-directory.js';
import { hashPassword } from '../../src/directory/file/password-hash.js';

describe('file directory lockout (as AD: threshold, then a lockout duration)', () => {
  afterEach(() => { vi.useRealTimers(); });

  it('locks after the threshold, reports locked-out even with the right password, and unlocks after lockoutMinutes', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const dir = mkdtempSync(join(tmpdir(), 'fedgate-file-'));
    const path = join(dir, 'users.yaml');
    writeFileSync(path, `lockoutThreshold: 2\nlockoutMinutes: 30\nusers:\n  - username: zoe\n    passwordHash: "${await hashPassword('right')}"\n`);
    const directory = createFileDirectory(path);
    expect((await directory.authenticate('zoe', 'wrong')).outcome).toBe('invalid-credentials');
    expect((await directory.authenticate('zoe', 'wrong')).outcome).toBe('invalid-credentials');
    expect(await directory.authenticate('zoe', 'right')).toMatchObject({ outcome: 'locked-out', account: 'uid=zoe,file' });
    vi.setSystemTime(Date.now() + 31 * 60_000);
    expect((await directory.authenticate('zoe', 'right')).outcome).toBe('success');
  });
});
