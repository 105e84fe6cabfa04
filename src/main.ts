import { readFileSync } from 'node:fs';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { parseArgs } from 'node:util';
import { createApp } from './app.js';
import { ConfigError, loadConfigFile } from './config/load.js';
import type { Config } from './config/schema.js';
import { DEMO_USERS, embeddedDemoConfig } from './cli/embedded-demo.js';
import { runEntraDomain } from './cli/entra-domain.js';
import { runKerberosCheck } from './cli/kerberos-check.js';
import { runKeys } from './cli/keys.js';
import { hashPassword } from './directory/file/password-hash.js';
import { createLogger } from './observability/logger.js';
import { daysUntilExpiry, EXPIRY_WARNING_DAYS } from './keys/key-store.js';
import { buildServices, closeServices } from './services.js';

/**
 * Process entry: load config -> build services -> create app -> listen; drain on SIGTERM.
 * `main` returns the exit code; bin/fedgate.js sets it.
 */
const USAGE = `usage: fedgate <command> [options]

commands:
  serve [--config FILE]         run the identity provider (FEDGATE_CONFIG also names the file;
                                without either, the embedded demo runs on http://127.0.0.1:8080)
  check-config --config FILE    validate a configuration, print every problem, exit non-zero if any
  hash-password                 read a password on standard input, print its hash for a users file
  entra-domain --config FILE --domain DOMAIN [--protocol wsFed|saml] [--json | --check FILE]
                                the Microsoft Graph / PowerShell settings that federate an Entra ID
                                domain with fedgate; --check compares what Entra holds with them
  keys next|promote|show --config FILE
                                token-signing key rollover: create the next key, make it current, show them
  kerberos-check --config FILE  check authn.kerberos (keytab, service principal, encryption types,
                                acceptor credentials) and print what a domain admin must fix
  help                          this text
`;

export async function main(argv: readonly string[]): Promise<number> {
  // These parse their own options (the shared parse below knows only --config).
  if (argv[0] === 'entra-domain') return runEntraDomain(argv.slice(1));
  if (argv[0] === 'keys') return runKeys(argv.slice(1));
  if (argv[0] === 'kerberos-check') return runKerberosCheck(argv.slice(1));
  let parsed;
  try {
    parsed = parseArgs({ args: [...argv], allowPositionals: true, options: { config: { type: 'string', short: 'c' } } });
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const [command = 'help'] = parsed.positionals;
  const configPath = parsed.values.config ?? process.env.FEDGATE_CONFIG;
  switch (command) {
    case 'serve':
      return serve(configPath);
    case 'check-config': {
      if (!configPath) {
        process.stderr.write('check-config needs --config FILE\n');
        return 2;
      }
      const config = readConfig(configPath);
      if (!config) return 1;
      process.stdout.write(`${configPath}: configuration is valid (${config.relyingParties.length} relying parties)\n`);
      return 0;
    }
    case 'hash-password': {
      const password = readFileSync(0, 'utf8').replace(/\r?\n$/, '');
      if (!password) {
        process.stderr.write('no password on standard input\n');
        return 2;
      }
      process.stdout.write(`${await hashPassword(password)}\n`);
      return 0;
    }
    case 'help':
      process.stdout.write(USAGE);
      return 0;
    default:
      process.stderr.write(`unknown command: ${command}\n\n${USAGE}`);
      return 2;
  }
}

function readConfig(path: string | undefined): Config | undefined {
  try {
    return path ? loadConfigFile(path) : embeddedDemoConfig(process.env, process.cwd());
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      return undefined;
    }
    throw err;
  }
}

async function serve(configPath: string | undefined): Promise<number> {
  const config = readConfig(configPath);
  if (!config) return 1;
  const log = createLogger(config.logging.level);
  let services;
  try {
    services = await buildServices(config, log, config.demo ? { demoUsers: DEMO_USERS } : {});
  } catch (err) {
    log.fatal({ err: err instanceof Error ? err.message : String(err) }, 'fedgate could not start');
    return 1;
  }
  const app = createApp(services);
  const server: Server = config.server.tls
    ? createHttpsServer({ cert: readFileSync(config.server.tls.certFile), key: readFileSync(config.server.tls.keyFile) }, app)
    : createHttpServer(app);
  server.keepAliveTimeout = 65_000;
  const { host, port } = splitListen(config.server.listen);
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => resolve());
    });
  } catch (err) {
    log.fatal({ err: (err as Error).message, listen: config.server.listen }, 'cannot listen');
    await closeServices(services);
    return 1;
  }
  log.info({ baseUrl: config.server.baseUrl, listen: config.server.listen, directory: services.directory.describe() }, 'fedgate is listening');
  const daysLeft = Math.floor(daysUntilExpiry(services.keys.current));
  if (daysLeft < EXPIRY_WARNING_DAYS) log.warn({ daysLeft }, 'the token-signing certificate expires soon: run fedgate keys next, publish, then promote');
  if (config.demo) {
    log.warn('running the embedded DEMO configuration: demo users and a generated key; not for production');
    printDemoBanner(config);
  }

  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (signal: string) => {
      if (stopping) return;
      stopping = true;
      log.info({ signal }, 'shutting down: finishing requests in flight');
      const force = setTimeout(() => server.closeAllConnections(), 10_000);
      force.unref();
      server.close(() => {
        void closeServices(services).then(() => {
          log.info('stopped');
          resolve(0);
        });
      });
      server.closeIdleConnections();
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
}

function splitListen(listen: string): { host: string; port: number } {
  const i = listen.lastIndexOf(':');
  return { host: listen.slice(0, i).replace(/^\[(.*)\]$/, '$1'), port: Number(listen.slice(i + 1)) };
}

function printDemoBanner(config: Config): void {
  const lines = [
    '',
    '  *** fedgate DEMO: built-in demo users and a generated key. Not for production. ***',
    '',
    `  Open ${config.server.baseUrl}/ and sign in as one of:`,
    ...DEMO_USERS.map((u) => `    ${u.login.padEnd(26)} ${u.password.padEnd(14)} (${u.note})`),
    '',
    '  Configure a real directory with: fedgate serve --config fedgate.yaml (see examples/fedgate.yaml)',
    '',
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}
