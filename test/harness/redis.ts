import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { TEST_ROOT } from './servers.js';

/**
 * A throwaway redis-server (Debian's) on 127.0.0.1, one per test file that calls redisServer():
 * ~20 ms to start, and a file that stops and restarts its own Redis disturbs no other file.
 * No persistence (sessions are lost on a restart, as the tests expect). The port is kept across
 * stop()/start(), so clients reconnect to the same address.
 */
export interface RedisServer {
  readonly port: number;
  readonly url: string;
  /** Stops the server (SIGKILL: a crash, not a graceful shutdown). */
  stop(): Promise<void>;
  /** Starts it again on the same port, empty. */
  start(): Promise<void>;
}

/** Ports below the ephemeral range (see tcp.ts), apart from slapd's and the TCP helpers'. */
const FIRST_PORT = 21800;
const LAST_PORT = 21899;

const running = new Set<ChildProcess>();
const dirs = new Set<string>();
process.once('exit', () => {
  running.forEach((child) => child.kill('SIGKILL'));
  dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true }));
});

/** A Sentinel watching `master` as `name` (quorum 1), on a port of its own. */
export interface SentinelOf {
  readonly master: RedisServer;
  readonly name: string;
}

export interface RedisServerOptions {
  /** A Sentinel (redis-server --sentinel) instead of a data server. */
  readonly sentinelOf?: SentinelOf;
  /** A one-node Redis Cluster owning every hash slot. */
  readonly cluster?: boolean;
}

export async function redisServer(options: RedisServerOptions = {}): Promise<RedisServer> {
  const { sentinelOf } = options;
  mkdirSync(TEST_ROOT, { recursive: true });
  const dir = mkdtempSync(join(TEST_ROOT, 'redis-'));
  dirs.add(dir);
  // Parallel test files pick ports at random, then retry on a clash.
  for (let attempt = 0; attempt < 20; attempt++) {
    const port = FIRST_PORT + Math.floor(Math.random() * (LAST_PORT - FIRST_PORT + 1));
    // Written again at each start: stop() removes the dir (nothing in it outlives a stop anyway).
    const args = () => {
      mkdirSync(dir, { recursive: true });
      return sentinelOf ? sentinelArgs(dir, port, sentinelOf) : serverArgs(dir, port, options.cluster === true);
    };
    let child = await launch(port, args()).catch(() => undefined);
    if (!child) continue;
    if (options.cluster) await claimAllSlots(port);
    return {
      port,
      url: `redis://127.0.0.1:${port}`,
      async stop() {
        await kill(child);
        child = undefined;
        rmSync(dir, { recursive: true, force: true });
      },
      async start() {
        if (child) throw new Error('redis-server is already running');
        child = await launch(port, args());
        if (options.cluster) await claimAllSlots(port);
      },
    };
  }
  throw new Error(`no free port for redis-server in ${FIRST_PORT}-${LAST_PORT}`);
}

const serverArgs = (dir: string, port: number, cluster: boolean) =>
  ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no', '--loglevel', 'warning',
    ...(cluster ? ['--cluster-enabled', 'yes', '--cluster-announce-ip', '127.0.0.1', '--cluster-config-file', join(dir, `nodes-${port}.conf`)] : [])];

/** A fresh cluster node owns no slot: give it all of them (the cluster state turns ok). */
async function claimAllSlots(port: number): Promise<void> {
  const client = new Redis({ host: '127.0.0.1', port, lazyConnect: true });
  try {
    await client.connect();
    const slots = await client.call('CLUSTER', 'INFO') as string;
    if (!/cluster_slots_assigned:16384/.test(slots)) await client.call('CLUSTER', 'ADDSLOTSRANGE', '0', '16383');
    for (let i = 0; i < 150 && !/cluster_state:ok/.test(await client.call('CLUSTER', 'INFO') as string); i++) await sleep(20);
  } finally {
    client.disconnect();
  }
}

/** Sentinel needs a configuration file it can rewrite (its own, in the server's dir). */
function sentinelArgs(dir: string, port: number, of: SentinelOf): string[] {
  const file = join(dir, `sentinel-${port}.conf`);
  writeFileSync(file, `port ${port}\nbind 127.0.0.1\ndir ${dir}\nloglevel warning\nsentinel monitor ${of.name} 127.0.0.1 ${of.master.port} 1\n`);
  return [file, '--sentinel'];
}

/** Starts redis-server on `port`; resolves once it accepts connections, rejects if it exits. */
async function launch(port: number, args: readonly string[]): Promise<ChildProcess> {
  if (await answers(port)) throw new Error(`port ${port} is taken`);
  const child = spawn('redis-server', args, { stdio: 'ignore' });
  running.add(child);
  let exited = false;
  child.once('exit', () => {
    exited = true;
    running.delete(child);
  });
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    if (exited) throw new Error(`redis-server on port ${port} exited at start`);
    if (await answers(port)) return child;
    await sleep(20);
  }
  await kill(child);
  throw new Error(`redis-server on port ${port} did not start within 10 s`);
}

async function kill(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGKILL');
  await exited;
}

/** Whether something on `port` answers PING with PONG. */
function answers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1_000, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (d: Buffer) => done(d.toString().startsWith('+PONG')));
  });
}
