import { once } from 'node:events';
import { connect, createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redisServer, type RedisServer } from '../harness/redis.js';
import { tempDir, writeConfig } from './cli-fixture.js';
import { clusterConfig, get, load, randomPort, serve, startCluster, stop, type Served } from './cluster-process.js';

/**
 * `fedgate serve --workers 2` as an operator runs it: a real primary and two real workers over a
 * real redis-server, driven over HTTP with a new connection per request (so the primary hands
 * requests to both workers), stopped and restarted with real signals.
 */
let redis: RedisServer;
beforeAll(async () => { redis = await redisServer(); });
afterAll(() => redis.stop());

async function startTwo(): Promise<Served> {
  const port = randomPort();
  return startCluster(clusterConfig(port, redis.url), port);
}

/** Pids of the workers that logged a completed request since line `from`. */
function servingPids(served: Served, from = 0): Set<number> {
  return new Set(served.lines().slice(from).filter((l) => l.msg === 'request completed').map((l) => l.pid as number));
}

describe('fedgate serve --workers 2', () => {
  it('forks two workers, and requests are answered by both', async () => {
    const served = await startTwo();
    const pids = served.listening();
    expect(new Set(pids).size).toBe(2);
    expect(pids).not.toContain(served.child.pid);
    const primary = served.lines().find((l) => l.role === 'primary');
    expect(primary).toMatchObject({ pid: served.child.pid, workers: 2 });
    for (let i = 0; i < 20; i++) expect((await get(served.port, '/healthz')).status).toBe(200);
    await expect.poll(() => [...servingPids(served)].sort()).toEqual([...pids].sort());
    expect(await stop(served)).toBe(0);
  });

  it('a killed worker is replaced, and requests keep succeeding meanwhile', async () => {
    const served = await startTwo();
    const [victim, survivor] = served.listening() as [number, number];
    process.kill(victim, 'SIGKILL');
    await expect.poll(() => served.lines().some((l) => l.msg === 'worker died: replacing it' && l.workerPid === victim)).toBe(true);
    // The survivor answers alone until the replacement listens.
    for (let i = 0; i < 10; i++) expect((await get(served.port, '/healthz')).status).toBe(200);
    const [, , replacement] = await served.waitListening(3);
    expect([victim, survivor]).not.toContain(replacement);
    const mark = served.lines().length;
    const traffic = load(served.port, '/healthz');
    await expect.poll(() => [...servingPids(served, mark)].sort()).toEqual([survivor, replacement].sort());
    expect((await traffic.stop()).failures).toEqual([]);
    expect(await stop(served)).toBe(0);
  });

  it('SIGHUP restarts the workers one at a time without a failed request', async () => {
    const served = await startTwo();
    const old = served.listening();
    const traffic = load(served.port, '/healthz');
    await expect.poll(() => traffic.ok()).toBeGreaterThan(20);
    served.child.kill('SIGHUP');
    await expect.poll(() => served.lines().some((l) => l.msg === 'rolling restart finished'), { timeout: 30_000 }).toBe(true);
    const mark = served.lines().length;
    const before = traffic.ok();
    await expect.poll(() => traffic.ok()).toBeGreaterThan(before + 20);
    const { ok, failures } = await traffic.stop();
    expect(failures).toEqual([]);
    expect(ok).toBeGreaterThan(40);
    const fresh = served.listening().slice(2);
    expect(fresh).toHaveLength(2);
    expect(fresh.filter((pid) => old.includes(pid))).toEqual([]);
    // The old workers stopped, one after the other, each once its successor listened.
    const stopped = served.lines().filter((l) => l.msg === 'worker stopped').map((l) => l.workerPid);
    expect(stopped.sort()).toEqual([...old].sort());
    expect([...servingPids(served, mark)].every((pid) => fresh.includes(pid))).toBe(true);
    expect(await stop(served)).toBe(0);
  });

  it('SIGTERM: a request in flight is answered, then the primary exits 0 and the port is closed', async () => {
    const served = await startTwo();
    // A POST whose body is still arriving when SIGTERM comes.
    const body = 'UserName=alice&Password=x';
    const socket = connect(served.port, '127.0.0.1');
    await once(socket, 'connect');
    let response = '';
    socket.on('data', (d: Buffer) => { response += d.toString(); });
    socket.write(`POST /login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: ${body.length}\r\n\r\n${body.slice(0, 5)}`);
    await new Promise((resolve) => setTimeout(resolve, 300));
    served.child.kill('SIGTERM');
    await expect.poll(() => served.lines().filter((l) => l.msg === 'shutting down: finishing requests in flight').length).toBe(2);
    await new Promise((resolve) => setTimeout(resolve, 500));
    socket.end(body.slice(5));
    await once(socket, 'close');
    expect(response).toMatch(/^HTTP\/1\.1 \d{3} /);
    expect(await served.exited).toBe(0);
    await expect(get(served.port, '/healthz')).rejects.toThrow(/ECONNREFUSED/);
  });

  it('gives up, exit 1, when workers keep dying as they start (the port is taken)', async () => {
    const port = randomPort();
    const blocker = createServer().listen(port, '127.0.0.1');
    await once(blocker, 'listening');
    try {
      const served = serve(['--config', clusterConfig(port, redis.url), '--workers', '2'], port);
      expect(await served.exited).toBe(1);
      expect(served.output()).toContain('workers keep dying as they start: giving up');
      expect(served.lines().filter((l) => l.msg === 'cannot listen').length).toBeGreaterThanOrEqual(5);
    } finally {
      blocker.close();
    }
  }, 60_000);

  it('--workers 2 over memory state is refused; auto over memory state serves in one process', async () => {
    const port = randomPort();
    const config = writeConfig(tempDir(), { server: { baseUrl: `http://127.0.0.1:${port}`, listen: `127.0.0.1:${port}` } });
    const refused = serve(['--config', config, '--workers', '2'], port);
    expect(await refused.exited).toBe(2);
    expect(refused.output()).toContain('several workers need state.type redis');
    const single = serve(['--config', config, '--workers', 'auto'], port);
    await single.waitListening(1);
    // No primary, no worker: the process itself serves.
    expect(single.lines().some((l) => l.role === 'primary' || l.worker !== undefined)).toBe(false);
    expect(await stop(single)).toBe(0);
  });
});
