import cluster, { type Worker } from 'node:cluster';
import type { Logger } from '../observability/logger.js';

/**
 * The node:cluster primary of `fedgate serve --workers N`: it serves nothing itself. It forks N
 * workers (each the whole fedgate, sharing server.listen), replaces one that dies, with a growing
 * delay, and gives up (exit 1) when they keep dying as they start, which a restart cannot fix (a
 * port taken, Redis refused). SIGTERM/SIGINT: each worker finishes its requests in flight, then
 * exit 0. SIGHUP: a rolling restart, one worker at a time, the old one stopped only once its
 * successor listens, so configuration and keys are read again without a moment with no worker.
 */
export interface PrimaryTiming {
  /** A worker that dies sooner than this after its start counts towards a crash loop. */
  readonly stableMs: number;
  /** Quick deaths in a row after which the primary gives up. */
  readonly maxQuickDeaths: number;
  /** The delay before the replacement of the n-th quick death in a row (n from 1). */
  readonly backoffMs: (n: number) => number;
  /** How long a new worker may take to listen (rolling restart) and a retiring one to stop. */
  readonly startTimeoutMs: number;
  readonly stopTimeoutMs: number;
}

export const PRIMARY_TIMING: PrimaryTiming = {
  stableMs: 30_000,
  maxQuickDeaths: 5,
  backoffMs: (n) => Math.min(15_000, 250 * 2 ** n),
  startTimeoutMs: 60_000,
  // Workers force their connections closed after 10 s (serve-process.ts).
  stopTimeoutMs: 20_000,
};

export function runPrimary(count: number, baseLog: Logger, timing: PrimaryTiming = PRIMARY_TIMING): Promise<number> {
  const log = baseLog.child({ role: 'primary', pid: process.pid });
  /** Every worker process alive, serving or not. */
  const live = new Map<Worker, number>();
  /** The workers that should be running: one of them dying is replaced. */
  const serving = new Set<Worker>();
  const retiring = new Set<Worker>();
  const replacements = new Set<NodeJS.Timeout>();
  let quickDeaths = 0;
  let lastQuickDeath = 0;
  let exitCode: number | undefined;
  let restarting = false;

  return new Promise<number>((resolve) => {
    const fork = (): Worker => {
      const worker = cluster.fork();
      live.set(worker, Date.now());
      return worker;
    };
    const retire = (worker: Worker) => {
      serving.delete(worker);
      if (retiring.has(worker)) return;
      retiring.add(worker);
      worker.process.kill('SIGTERM');
      const kill = setTimeout(() => {
        log.warn({ worker: worker.id, workerPid: worker.process.pid }, 'a stopping worker did not exit: killing it');
        worker.process.kill('SIGKILL');
      }, timing.stopTimeoutMs);
      worker.once('exit', () => clearTimeout(kill));
    };
    const finishIfStopped = () => {
      if (exitCode === undefined || live.size > 0) return;
      for (const [signal, handler] of handlers) process.off(signal, handler);
      cluster.off('exit', onExit);
      log.info({ exitCode }, 'all workers stopped');
      resolve(exitCode);
    };
    const stopAll = (code: number, signal?: NodeJS.Signals) => {
      if (exitCode !== undefined) return;
      if (signal) log.info({ signal }, 'shutting down: workers finish their requests in flight');
      exitCode = code;
      for (const timer of replacements) clearTimeout(timer);
      replacements.clear();
      for (const worker of live.keys()) retire(worker);
      finishIfStopped();
    };

    const onExit = (worker: Worker, code: number | null, signal: string | null) => {
      const lived = Date.now() - (live.get(worker) ?? 0);
      live.delete(worker);
      const expected = retiring.delete(worker) || !serving.delete(worker);
      const fields = { worker: worker.id, workerPid: worker.process.pid, code, signal };
      if (expected || exitCode !== undefined) {
        log.info(fields, 'worker stopped');
        finishIfStopped();
        return;
      }
      const now = Date.now();
      if (lived >= timing.stableMs || now - lastQuickDeath > 2 * timing.stableMs) quickDeaths = 0;
      if (lived < timing.stableMs) {
        quickDeaths += 1;
        lastQuickDeath = now;
      }
      if (quickDeaths >= timing.maxQuickDeaths) {
        log.fatal({ ...fields, quickDeaths }, 'workers keep dying as they start: giving up (their own lines say why)');
        process.stderr.write(`fedgate: ${quickDeaths} workers died within ${timing.stableMs / 1000} s of starting; stopping\n`);
        stopAll(1);
        return;
      }
      const delay = quickDeaths === 0 ? 0 : timing.backoffMs(quickDeaths);
      log.error({ ...fields, livedMs: lived, restartInMs: delay }, 'worker died: replacing it');
      const timer = setTimeout(() => {
        replacements.delete(timer);
        if (exitCode === undefined) serving.add(fork());
      }, delay);
      replacements.add(timer);
    };

    const rollingRestart = async () => {
      if (restarting || exitCode !== undefined) {
        log.warn('SIGHUP ignored: a rolling restart or a shutdown is under way');
        return;
      }
      restarting = true;
      log.info({ workers: serving.size }, 'SIGHUP: restarting the workers one at a time (configuration and keys are read again)');
      let restarted = 0;
      for (const old of [...serving]) {
        if (exitCode !== undefined) break;
        if (!serving.has(old)) continue; // died meanwhile: already replaced
        // Not serving until it listens: a successor that cannot start (a broken configuration) is
        // not replaced over and over, and the old workers keep serving.
        const successor = fork();
        if (!(await listening(successor, timing.startTimeoutMs))) {
          log.error({ worker: successor.id, workerPid: successor.process.pid }, 'rolling restart stopped: a new worker did not start (its lines say why); the running workers keep serving');
          if (live.has(successor)) retire(successor);
          break;
        }
        if (exitCode !== undefined) {
          retire(successor);
          break;
        }
        serving.add(successor);
        retire(old);
        if (live.has(old)) await new Promise((done) => old.once('exit', done));
        restarted += 1;
      }
      restarting = false;
      log.info({ restarted }, 'rolling restart finished');
    };

    const handlers = new Map<NodeJS.Signals, () => void>([
      ['SIGTERM', () => stopAll(0, 'SIGTERM')],
      ['SIGINT', () => stopAll(0, 'SIGINT')],
      ['SIGHUP', () => void rollingRestart()],
    ]);
    for (const [signal, handler] of handlers) process.on(signal, handler);
    cluster.on('exit', onExit);
    log.info({ workers: count }, 'fedgate primary: starting the workers');
    for (let i = 0; i < count; i += 1) serving.add(fork());
  });
}

/** Whether a worker starts listening within `timeoutMs` (false when it exits first). */
function listening(worker: Worker, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const done = (ok: boolean) => {
      clearTimeout(timer);
      worker.off('listening', onListening);
      worker.off('exit', onExit);
      resolve(ok);
    };
    const onListening = () => done(true);
    const onExit = () => done(false);
    const timer = setTimeout(() => done(false), timeoutMs);
    worker.on('listening', onListening);
    worker.on('exit', onExit);
  });
}
