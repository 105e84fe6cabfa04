import { mkdtempSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { closeServices } from '../../src/services.js';
import { startTestApp, type TestApp } from './app.js';
import type { RedisServer } from './redis.js';

/**
 * Two fedgate nodes on one Redis behind a stand-in load balancer: one request handler that sends
 * each request to the node chosen with `route`, so one supertest agent (one browser, one cookie
 * jar) can move between nodes. Both nodes share the data dir, hence the signing keys and
 * generated secrets, as two machines with the same key files would.
 */
export interface TwoNodes {
  readonly a: TestApp;
  readonly b: TestApp;
  /** The load balancer: pass it to request.agent(). Each response names its node in x-test-node. */
  readonly balancer: (req: IncomingMessage, res: ServerResponse) => void;
  /** Sends the next requests to this node. */
  route(node: 'a' | 'b'): void;
  /** Node A dies: its Redis connections close and the balancer sends everything to B. */
  killA(): Promise<void>;
  close(): Promise<void>;
}

export async function startTwoNodes(redis: RedisServer, raw: Record<string, unknown> = {}): Promise<TwoNodes> {
  const shared = {
    dataDir: mkdtempSync(join(tmpdir(), 'fedgate-nodes-')),
    state: { type: 'redis', url: redis.url, keyPrefix: `nodes-${process.pid}-${Date.now()}:` },
    ...raw,
  };
  // One after the other: A generates the keys and secrets in the data dir, B reads them.
  const a = await startTestApp(shared);
  const b = await startTestApp(shared);
  let target: TestApp = a;
  let aAlive = true;
  return {
    a, b,
    balancer: (req, res) => {
      res.setHeader('x-test-node', target === a ? 'a' : 'b');
      target.app(req, res);
    },
    route(node) {
      if (node === 'a' && !aAlive) throw new Error('node A was killed');
      target = node === 'a' ? a : b;
    },
    async killA() {
      aAlive = false;
      target = b;
      await closeServices(a.services);
    },
    async close() {
      await Promise.all([aAlive ? closeServices(a.services) : undefined, closeServices(b.services)]);
    },
  };
}
