import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import type { App } from '../../src/app.js';
import { createApp } from '../../src/app.js';
import { DEMO_USERS, DEMO_USERS_FILE } from '../../src/cli/embedded-demo.js';
import { parseConfig } from '../../src/config/load.js';
import type { Config, DirectoryConfig } from '../../src/config/schema.js';
import type { Directory } from '../../src/directory/directory.js';
import { createLogger } from '../../src/observability/logger.js';
import { buildServices, type Services } from '../../src/services.js';

/**
 * A real fedgate app for HTTP tests: the real services (key store, state store, sign-in pipeline)
 * over the demo users file unless a directory config is given, with every log line captured so
 * tests can assert audit events and that no secret is ever logged.
 */
export interface TestApp {
  readonly app: App;
  readonly services: Services;
  readonly config: Config;
  /** Every log line written so far, parsed. */
  readonly logs: () => Record<string, unknown>[];
  /** The raw log text (for "never logged" checks). */
  readonly logText: () => string;
  /** Audit events of one type. */
  readonly audits: (type?: string) => Record<string, unknown>[];
}

export interface TestAppOptions {
  /** A directory object to use as is (fault injection, call counting). */
  readonly directory?: Directory;
  /** An already-validated directory configuration (from test/harness/directories.ts). */
  readonly directoryConfig?: DirectoryConfig;
}

export async function startTestApp(raw: Record<string, unknown> = {}, options: TestAppOptions = {}): Promise<TestApp> {
  const dataDir = mkdtempSync(join(tmpdir(), 'fedgate-app-'));
  const parsed = parseConfig({
    server: { baseUrl: 'http://127.0.0.1:8080' },
    dataDir,
    directory: { type: 'file', path: DEMO_USERS_FILE },
    logging: { level: 'debug' },
    ...raw,
  }, 'test', dataDir, {});
  const config: Config = options.directoryConfig ? { ...parsed, directory: options.directoryConfig } : parsed;
  let text = '';
  const sink = new Writable({ write(chunk, _enc, done) { text += chunk.toString(); done(); } });
  const log = createLogger(config.logging.level, sink);
  const services = await buildServices(config, log, { directory: options.directory, demoUsers: config.demo ? DEMO_USERS : [] });
  const app = createApp(services);
  const logs = () => text.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
  return {
    app, services, config, logs, logText: () => text,
    audits: (type) => logs().filter((l) => l.audit === true).map((l) => l.event as Record<string, unknown>)
      .filter((e) => type === undefined || e.type === type),
  };
}
