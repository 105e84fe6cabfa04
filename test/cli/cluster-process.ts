import { spawn, type ChildProcess } from 'node:child_process';
import { request } from 'node:http';
import { join } from 'node:path';
import { afterAll, expect } from 'vitest';
import { tempDir, writeConfig } from './cli-fixture.js';

/**
 * `fedgate serve` as a real process (a cluster primary and its workers, or one process) for the
 * cluster and key-reload tests: its JSON log lines, the pids that listen, and plain HTTP requests
 * each on a new connection, so the primary hands every one to the next worker.
 */
const CLI = ['--import', import.meta.resolve('tsx'), join(process.cwd(), 'test/harness/run-cli.ts')];

export interface Served {
  readonly port: number;
  readonly child: ChildProcess;
  readonly exited: Promise<number | null>;
  /** Everything written to stdout and stderr. */
  output(): string;
  /** The JSON log lines (others, such as stderr text, left out). */
  lines(): Record<string, unknown>[];
  /** Pids of the processes that said 'fedgate is listening', in order. */
  listening(): number[];
  /** Waits for `count` listening lines in all (not only new ones). */
  waitListening(count: number, timeout?: number): Promise<number[]>;
}

/** A port below the ephemeral range, apart from those of the other harnesses. */
export const randomPort = () => 22100 + Math.floor(Math.random() * 800);

/** Every process still running when the test file ends is killed. */
const running = new Set<ChildProcess>();
afterAll(() => { for (const child of running) child.kill('SIGKILL'); });

export function serve(args: readonly string[], port: number, env: NodeJS.ProcessEnv = {}): Served {
  const child = spawn(process.execPath, [...CLI, 'serve', ...args], { env: { ...process.env, FEDGATE_CONFIG: '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  child.on('exit', () => running.delete(child));
  let out = '';
  child.stdout!.on('data', (d: Buffer) => { out += d.toString(); });
  child.stderr!.on('data', (d: Buffer) => { out += d.toString(); });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const lines = () => out.split('\n').flatMap((line) => {
    if (!line.startsWith('{')) return [];
    try {
      return [JSON.parse(line) as Record<string, unknown>];
    } catch {
      return []; // a line still being written
    }
  });
  const listening = () => lines().filter((l) => l.msg === 'fedgate is listening').map((l) => l.pid as number);
  return {
    port, child, exited, lines, listening, output: () => out,
    async waitListening(count, timeout = 30_000) {
      await expect.poll(() => listening().length, { timeout, message: out }).toBeGreaterThanOrEqual(count);
      return listening();
    },
  };
}

/** A configuration (cli-fixture's, dataDir generated keys) serving 127.0.0.1:port over Redis state. */
export function clusterConfig(port: number, redisUrl: string, extra: Record<string, unknown> = {}): string {
  return writeConfig(tempDir(), {
    server: { baseUrl: `http://127.0.0.1:${port}`, listen: `127.0.0.1:${port}` },
    state: { type: 'redis', url: redisUrl, keyPrefix: `cluster-${port}:` },
    // Each completed request is logged (debug) with the pid of the worker that served it.
    logging: { level: 'debug' },
    ...extra,
  });
}

/** `fedgate serve --config FILE --workers N`, once all N workers listen. */
export async function startCluster(config: string, port: number, workers = 2): Promise<Served> {
  const served = serve(['--config', config, '--workers', String(workers)], port);
  await served.waitListening(workers);
  return served;
}

/** SIGTERM, and the exit code. */
export async function stop(served: Served): Promise<number | null> {
  served.child.kill('SIGTERM');
  return served.exited;
}

export interface Answer {
  readonly status: number;
  readonly body: string;
}

/** A GET on a new connection (no keep-alive). */
export function get(port: number, path: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => { body += d; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

/**
 * Requests from `concurrency` clients in a loop until stop(): how many succeeded (status 200) and
 * every failure (a reset, a refused connection, another status), to prove none is lost.
 */
export function load(port: number, path: string, concurrency = 4) {
  let running = true;
  let ok = 0;
  const failures: string[] = [];
  const client = async () => {
    while (running) {
      try {
        const answer = await get(port, path);
        if (answer.status === 200) ok += 1;
        else failures.push(`status ${answer.status}`);
      } catch (err) {
        failures.push((err as Error).message);
      }
    }
  };
  const clients = Array.from({ length: concurrency }, client);
  return {
    ok: () => ok,
    failures,
    async stop() {
      running = false;
      await Promise.all(clients);
      return { ok, failures };
    },
  };
}
