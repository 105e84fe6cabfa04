import cluster from 'node:cluster';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { ConfigError, loadConfigFile } from './config/load.js';
import type { Config } from './config/schema.js';
import { embeddedDemoConfig } from './cli/embedded-demo.js';
import { runEntraDomain } from './cli/entra-domain.js';
import { runKerberosCheck } from './cli/kerberos-check.js';
import { runKeys } from './cli/keys.js';
import { hashPassword } from './directory/file/password-hash.js';
import { loadKeyStore } from './keys/key-store.js';
import { derivationSecrets } from './keys/secret-agreement.js';
import { createLogger } from './observability/logger.js';
import { serveClusterMetrics } from './observability/metrics-cluster.js';
import { runPrimary } from './server/cluster-primary.js';
import { serveProcess } from './server/serve-process.js';
import { workerCount } from './server/worker-count.js';

/**
 * Process entry: load config, then serve in this process (server/serve-process.ts) or, with
 * several workers, as the node:cluster primary (server/cluster-primary.ts), whose workers run this
 * same command. `main` returns the exit code; bin/fedgate.js sets it.
 */
const USAGE = `usage: fedgate <command> [options]

commands:
  serve [--config FILE] [--workers N|auto]
                                run the identity provider (FEDGATE_CONFIG also names the file;
                                without either, the embedded demo runs on http://127.0.0.1:8080);
                                --workers overrides server.workers (several need state.type redis);
                                SIGHUP restarts the workers one at a time, SIGTERM drains and stops
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
    parsed = parseArgs({ args: [...argv], allowPositionals: true, options: {
      config: { type: 'string', short: 'c' },
      workers: { type: 'string', short: 'w' },
    } });
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const [command = 'help'] = parsed.positionals;
  const configPath = parsed.values.config ?? process.env.FEDGATE_CONFIG;
  switch (command) {
    case 'serve':
      return serve(configPath, parsed.values.workers);
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

async function serve(configPath: string | undefined, workersFlag: string | undefined): Promise<number> {
  const config = readConfig(configPath);
  if (!config) return 1;
  const log = createLogger(config.logging.level);
  // A worker runs this same command line: it serves, whatever the count.
  if (cluster.isWorker) {
    const code = await serveProcess(config, log);
    // The IPC channel to the primary would keep the process alive.
    cluster.worker?.disconnect();
    return code;
  }
  const workers = workerCount(config, workersFlag);
  if (typeof workers !== 'number') {
    process.stderr.write(`${workers.error}\n`);
    return 2;
  }
  if (workers === 1) return serveProcess(config, log);
  // A generated key and generated secrets are made here, once, before the workers start: workers
  // that each found none would each make their own, and sign or derive identifiers differently.
  try {
    await loadKeyStore(config, log);
    derivationSecrets(config);
  } catch (err) {
    log.fatal({ err: err instanceof Error ? err.message : String(err) }, 'fedgate could not start');
    return 1;
  }
  // A scrape reaches one worker, which asks the primary for every worker's figures.
  serveClusterMetrics();
  return runPrimary(workers, log);
}
