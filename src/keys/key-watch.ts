import { stat } from 'node:fs/promises';
import type { Config } from '../config/schema.js';
import { IdpError } from '../core/errors.js';
import type { Logger } from '../observability/logger.js';
import { keyFilePaths, type KeyStore } from './key-store.js';

/**
 * Keeps a running process signing with what the key files hold, so that `fedgate keys next` and
 * `promote`, run on any node against shared files, reach every node and worker without a restart.
 * Polls the files' size, mtime and inode rather than fs.watch, which misses changes on network
 * filesystems and behaves differently per platform; four stats every few seconds cost nothing.
 * A change is read at once, and a set that does not load (half-written, key and certificate of
 * different pairs between promote's two renames, missing) is ignored with a warning: the process
 * keeps signing with the keys it has, and the next change is tried again.
 */
export const KEY_POLL_MS = 2_000;

export interface KeyWatch {
  /** Looks at the files now (the timer does it every KEY_POLL_MS). */
  check(): Promise<void>;
  stop(): void;
}

export function watchKeyFiles(keys: KeyStore, config: Config, log: Logger, intervalMs = KEY_POLL_MS): KeyWatch {
  const paths = keyFilePaths(config);
  const files = [paths.current.keyFile, paths.current.certFile, ...(paths.next ? [paths.next.keyFile, paths.next.certFile] : [])];
  let seen: string | undefined;
  let running: Promise<void> | undefined;

  const look = async () => {
    const state = (await Promise.all(files.map((file) => stat(file).then((s) => `${s.ino}:${s.size}:${s.mtimeMs}`, () => 'absent')))).join('|');
    // The first look reads the files too: they may have changed since the store was loaded.
    if (state === seen) return;
    seen = state;
    try {
      if (!keys.reload()) return;
      log.info({
        generation: keys.generation,
        current: keys.current.certificate.fingerprint256,
        next: keys.next?.certificate.fingerprint256,
      }, 'token-signing keys reloaded: the key files changed');
    } catch (err) {
      const detail = err instanceof IdpError ? err.detail : undefined;
      log.warn({ err: err instanceof Error ? err.message : String(err), detail, files }, 'the key files changed but do not load: still signing with the previous keys');
    }
  };
  const check = () => (running ??= look().finally(() => { running = undefined; }));
  void check();
  const timer = setInterval(() => void check(), intervalMs);
  timer.unref();
  return { check, stop: () => clearInterval(timer) };
}
