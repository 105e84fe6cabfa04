import cluster from 'node:cluster';
import { readFileSync } from 'node:fs';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { createApp } from '../app.js';
import type { Config } from '../config/schema.js';
import { IdpError } from '../core/errors.js';
import { DEMO_USERS } from '../cli/embedded-demo.js';
import { daysUntilExpiry, EXPIRY_WARNING_DAYS } from '../keys/key-store.js';
import { watchKeyFiles } from '../keys/key-watch.js';
import type { Logger } from '../observability/logger.js';
import { buildServices, closeServices } from '../services.js';

/**
 * One serving process: build services -> create app -> listen; drain on SIGTERM. The whole of
 * `fedgate serve` with one worker, and each worker of a cluster (whose listening socket the
 * cluster primary shares). Resolves with the exit code once stopped.
 */
export async function serveProcess(config: Config, baseLog: Logger): Promise<number> {
  // A worker's lines say which process served (node:cluster workers share one port).
  const log = cluster.isWorker ? baseLog.child({ worker: cluster.worker?.id, pid: process.pid }) : baseLog;
  let services;
  try {
    services = await buildServices(config, log, config.demo ? { demoUsers: DEMO_USERS } : {});
  } catch (err) {
    log.fatal({ err: err instanceof Error ? err.message : String(err), detail: err instanceof IdpError ? err.detail : undefined }, 'fedgate could not start');
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
  // Another node's `fedgate keys next|promote` rewrites the files: every process signs with what they hold.
  const keyWatch = watchKeyFiles(services.keys, config, log);
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
      keyWatch.stop();
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
    // Ctrl-C reaches the whole process group: the primary stops workers in order, with SIGTERM.
    if (cluster.isWorker) process.on('SIGINT', () => undefined);
    else process.once('SIGINT', () => stop('SIGINT'));
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
