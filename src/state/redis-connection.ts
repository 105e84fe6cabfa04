import { readFileSync } from 'node:fs';
import { Cluster, Redis, type RedisOptions } from 'ioredis';
import type { StateConfig } from '../config/schema.js';

export type RedisStateConfig = Extract<StateConfig, { type: 'redis' }>;
/** A standalone/Sentinel client or a Cluster: both run the same single-key commands. */
export type RedisClient = Redis | Cluster;

/**
 * Every command answers or fails within this time: a sign-in waits at most this long on a Redis
 * that hangs, then gets the "temporarily unavailable" page instead of a browser timeout.
 */
export const COMMAND_TIMEOUT_MS = 2_000;

/** Reconnect with backoff (100 ms, 200 ms, ... at most 2 s), forever: Redis may come back at any time. */
const backoff = (attempt: number): number => Math.min(attempt * 100, 2_000);

interface Endpoint {
  readonly host: string;
  readonly port: number;
  readonly username: string | undefined;
  readonly password: string | undefined;
  readonly db: number | undefined;
  readonly tls: boolean;
}

function endpoint(url: string): Endpoint {
  const u = new URL(url);
  const db = u.pathname.replace(/^\//, '');
  return {
    host: u.hostname.replace(/^\[|\]$/g, ''),
    port: u.port ? Number(u.port) : u.protocol === 'rediss:' ? 6380 : 6379,
    username: u.username ? decodeURIComponent(u.username) : undefined,
    password: u.password ? decodeURIComponent(u.password) : undefined,
    db: db ? Number(db) : undefined,
    tls: u.protocol === 'rediss:',
  };
}

/**
 * The ioredis client for `state`: standalone (one URL), Sentinel (the URLs are Sentinels, the
 * master is `sentinelName`) or Cluster (the URLs are seed nodes). Keys get `keyPrefix` from
 * ioredis itself, so no command can forget it.
 *
 * No offline queue: while Redis is unreachable a command fails at once (the person sees
 * "temporarily unavailable") instead of piling up in memory until Redis returns.
 */
export function connectRedis(config: RedisStateConfig): RedisClient {
  const urls = Array.isArray(config.url) ? config.url : [config.url];
  const endpoints = urls.map(endpoint);
  const first = endpoints[0]!;
  const tls = first.tls ? { ...(config.ca ? { ca: readFileSync(config.ca, 'utf8') } : {}), servername: first.host } : undefined;
  const common: RedisOptions = {
    keyPrefix: config.keyPrefix,
    commandTimeout: COMMAND_TIMEOUT_MS,
    connectTimeout: COMMAND_TIMEOUT_MS,
    maxRetriesPerRequest: 1,
    enableOfflineQueue: false,
    username: first.username,
    password: first.password,
    ...(tls ? { tls } : {}),
  };
  if (config.mode === 'cluster') {
    return new Cluster(endpoints.map((e) => ({ host: e.host, port: e.port })), {
      keyPrefix: config.keyPrefix,
      enableOfflineQueue: false,
      clusterRetryStrategy: backoff,
      redisOptions: { ...common, keyPrefix: undefined, ...(tls ? { tls: { ca: tls.ca } } : {}) },
    });
  }
  if (config.mode === 'sentinel') {
    return new Redis({
      ...common,
      sentinels: endpoints.map((e) => ({ host: e.host, port: e.port })),
      name: config.sentinelName,
      // The Sentinels' own password (in their URLs); the master's is the same by convention.
      sentinelPassword: first.password,
      sentinelUsername: first.username,
      sentinelRetryStrategy: backoff,
      retryStrategy: backoff,
      db: first.db,
      ...(tls ? { enableTLSForSentinelMode: true, sentinelTLS: tls, tls: { ca: tls.ca } } : {}),
    });
  }
  return new Redis({ ...common, host: first.host, port: first.port, db: first.db, retryStrategy: backoff });
}
