import { IdpError } from '../core/errors.js';
import type { Logger } from '../observability/logger.js';
import { connectRedis, type RedisClient, type RedisStateConfig } from './redis-connection.js';
import type { StateStore } from './state-store.js';

/**
 * The shared state of many nodes and workers, on Redis (standalone, Sentinel or Cluster). Every
 * operation is one atomic command on one key, so Cluster needs no hash tags, and every key gets
 * a TTL: nothing fedgate writes outlives its purpose. Values are JSON.
 *
 * Any Redis failure (down, timeout, failover in progress) becomes a 503 "temporarily unavailable"
 * IdpError before anything else happens: a sign-in stops at the first state it cannot read or
 * write, so it is never half-written. The client reconnects by itself; nothing needs a restart.
 */

/**
 * The window starts at the first increment: INCR, then a TTL only on a key without one, in one
 * script (atomic). A key left without a TTL (never by fedgate) gets one here too.
 */
const INCREMENT = `local n = redis.call('INCR', KEYS[1])
if redis.call('PTTL', KEYS[1]) < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return n`;

/** How long startup waits for Redis before it serves anyway (readiness says 503 until it answers). */
const STARTUP_WAIT_MS = 5_000;

export interface RedisStore extends StateStore {
  readonly client: RedisClient;
}

export async function createRedisStore(config: RedisStateConfig, log: Logger): Promise<RedisStore> {
  const client = connectRedis(config);
  watchConnection(client, log);
  await ready(client, STARTUP_WAIT_MS).catch((err: unknown) => {
    log.warn({ err: describe(err) }, 'Redis state store not reachable at startup: sign-ins answer 503 until it is');
  });
  return redisStore(client);
}

/** The store over an existing client (tests use one client per "node"). */
export function redisStore(client: RedisClient): RedisStore {
  const ttl = (ttlMs: number) => Math.max(1, Math.ceil(ttlMs));
  const parse = <T>(json: string | null): T | undefined => (json === null ? undefined : (JSON.parse(json) as T));
  return {
    client,
    get: <T>(key: string) => guard('get', async () => parse<T>(await client.get(key))),
    set: (key, value, ttlMs) => guard('set', async () => {
      await client.set(key, JSON.stringify(value), 'PX', ttl(ttlMs));
    }),
    setIfAbsent: (key, value, ttlMs) => guard('setIfAbsent', async () => (await client.set(key, JSON.stringify(value), 'PX', ttl(ttlMs), 'NX')) === 'OK'),
    take: <T>(key: string) => guard('take', async () => parse<T>(await client.getdel(key))),
    delete: (key) => guard('delete', async () => {
      await client.del(key);
    }),
    increment: (key, ttlMs) => guard('increment', async () => Number(await client.eval(INCREMENT, 1, key, ttl(ttlMs)))),
    checkHealth: () => guard('ping', async () => {
      await client.ping();
    }),
    async close() {
      await client.quit().catch(() => client.disconnect());
    },
  };
}

async function guard<T>(operation: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    throw new IdpError('state_unavailable', 'The sign-in service is temporarily unavailable. Please try again in a few minutes.',
      `Redis state store: ${operation} failed: ${describe(err)}`, { cause: err });
  }
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Resolves when the client is ready, rejects after `ms` (the client keeps trying in the background). */
function ready(client: RedisClient, ms: number): Promise<void> {
  if (client.status === 'ready') return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      client.off('ready', onReady);
      reject(new Error(`no answer within ${ms} ms (status ${client.status})`));
    }, ms);
    const onReady = () => {
      clearTimeout(timer);
      resolve();
    };
    client.once('ready', onReady);
  });
}

/**
 * Logs each loss and return of Redis once, not every reconnect attempt (an outage would flood
 * the log). Without an 'error' listener ioredis would print every failure to stderr.
 */
function watchConnection(client: RedisClient, log: Logger): void {
  let down = false;
  client.on('error', (err: unknown) => {
    if (down) return;
    down = true;
    log.error({ err: describe(err) }, 'Redis state store unreachable: sign-ins answer 503 until it returns');
  });
  client.on('ready', () => {
    if (!down) return;
    down = false;
    log.info('Redis state store reachable again');
  });
}
