import { fileURLToPath } from 'node:url';
import { parseConfig } from '../config/load.js';
import type { Config } from '../config/schema.js';
import type { DemoUser } from '../portal/portal-routes.js';

/**
 * What `fedgate serve` runs without a configuration: the demo users of examples/demo-users.yaml,
 * a generated key under ./data, on http://127.0.0.1:8080 (PORT overrides). It says loudly that it
 * is a demo, on every page and at start.
 */
export const DEMO_USERS_FILE = fileURLToPath(new URL('../../examples/demo-users.yaml', import.meta.url));

export const DEMO_USERS: readonly DemoUser[] = [
  { login: 'alice@demo.fedgate.test', password: 'Demo-alice-1', note: 'active; groups engineers, staff' },
  { login: 'DEMO\\bob', password: 'Demo-bob-1', note: 'active; groups engineers, staff' },
  { login: 'carol', password: 'Demo-carol-1', note: 'disabled account' },
  { login: 'dave', password: 'Demo-dave-1', note: 'expired account' },
  { login: 'erin', password: 'Demo-erin-1', note: 'must change password' },
];

export function embeddedDemoConfig(env: NodeJS.ProcessEnv, cwd: string): Config {
  const port = Number(env.PORT ?? 8080);
  const host = env.HOST ?? '127.0.0.1';
  const shown = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  return parseConfig({
    server: { baseUrl: `http://${shown}:${port}`, listen: `${host}:${port}` },
    dataDir: './data',
    directory: { type: 'file', path: DEMO_USERS_FILE },
    branding: { organizationName: 'fedgate demo' },
    demo: true,
  }, 'the embedded demo configuration', cwd, env);
}
