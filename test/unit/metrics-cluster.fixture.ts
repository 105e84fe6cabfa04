/**
 * A node:cluster primary with two workers, as `fedgate serve --workers 2` runs them: each worker
 * counts one sign-in and has its own certificate (100 and 50 days left); the first asks for the
 * cluster's metrics as its /metrics would, and the primary prints them.
 */
import cluster from 'node:cluster';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEMO_USERS_FILE } from '../../src/cli/embedded-demo.js';
import { parseConfig } from '../../src/config/load.js';
import type { KeyStore } from '../../src/keys/key-store.js';
import { createMetrics } from '../../src/observability/metrics.js';
import { clusterMetricsSource, serveClusterMetrics } from '../../src/observability/metrics-cluster.js';

if (cluster.isPrimary) {
  serveClusterMetrics();
  const workers = [cluster.fork({ DAYS: '100' }), cluster.fork({ DAYS: '50' })];
  let ready = 0;
  cluster.on('message', (_worker, message: { type: string; text?: string }) => {
    if (message.type === 'ready' && ++ready === workers.length) workers[0]!.send({ type: 'scrape' });
    if (message.type === 'scraped') {
      process.stdout.write(message.text ?? '');
      workers.forEach((w) => w.kill());
    }
  });
} else {
  const dataDir = mkdtempSync(join(tmpdir(), 'fedgate-cluster-'));
  const config = parseConfig({ server: { baseUrl: 'http://127.0.0.1:8080' }, dataDir, directory: { type: 'file', path: DEMO_USERS_FILE } }, 'test', dataDir, {});
  const keys = { current: { notAfter: new Date(Date.now() + Number(process.env.DAYS) * 86_400_000) }, next: undefined } as unknown as KeyStore;
  const metrics = createMetrics(config, keys);
  metrics.auditListener({ type: 'signin.success', application: 'portal' });
  const source = clusterMetricsSource(metrics);
  process.on('message', (message: { type: string }) => {
    if (message.type === 'scrape') void source().then((text) => process.send!({ type: 'scraped', text }));
  });
  // The process metrics count CPU from here (prom-client): spend some, so the sum is non-zero even
  // where the kernel accounts CPU in 10 ms ticks.
  for (const until = performance.now() + 60; performance.now() < until;);
  process.send!({ type: 'ready' });
}
