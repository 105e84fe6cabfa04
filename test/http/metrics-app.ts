import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import express from 'express';
import request from 'supertest';
import { expect } from 'vitest';
import { createApp } from '../../src/app.js';
import { DEMO_USERS_FILE } from '../../src/cli/embedded-demo.js';
import { parseConfig } from '../../src/config/load.js';
import type { DirectoryConfig } from '../../src/config/schema.js';
import { createDirectory } from '../../src/directory/create-directory.js';
import { requestLogging } from '../../src/http/request-log.js';
import { loadKeyStore } from '../../src/keys/key-store.js';
import { createLogger } from '../../src/observability/logger.js';
import { createMetrics, type Metrics } from '../../src/observability/metrics.js';
import { instrumentDirectory, instrumentStore } from '../../src/observability/metrics-backends.js';
import { metricsRoutes } from '../../src/observability/metrics-routes.js';
import { buildServices } from '../../src/services.js';
import { createMemoryStore } from '../../src/state/memory-store.js';
import type { TestApp } from '../harness/app.js';

/**
 * A fedgate app with metrics wired as the composition root will wire them (instrumented directory
 * and store, the audit listener, the request observer, /metrics), until services.ts and app.ts do
 * it themselves; then this becomes startTestApp.
 */
export interface MetricsApp extends TestApp {
  readonly metrics: Metrics;
}

export async function startMetricsApp(raw: Record<string, unknown> = {}, directoryConfig?: DirectoryConfig): Promise<MetricsApp> {
  const dataDir = mkdtempSync(join(tmpdir(), 'fedgate-metrics-'));
  const parsed = parseConfig({ server: { baseUrl: 'http://127.0.0.1:8080' }, dataDir, directory: { type: 'file', path: DEMO_USERS_FILE }, ...raw }, 'test', dataDir, {});
  const config = directoryConfig ? { ...parsed, directory: directoryConfig } : parsed;
  let metrics: Metrics | undefined;
  let text = '';
  // Stands for services.ts' createAudit(log, metrics.auditListener): each audit line as logged.
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      text += chunk.toString();
      for (const line of chunk.toString().split('\n').filter((l) => l.includes('"audit":true'))) {
        metrics?.auditListener((JSON.parse(line) as { event: Parameters<Metrics['auditListener']>[0] }).event);
      }
      done();
    },
  });
  const log = createLogger('info', sink);
  metrics = createMetrics(config, await loadKeyStore(config, log));
  const services = await buildServices(config, log, {
    directory: instrumentDirectory(createDirectory(config.directory, log), metrics),
    store: instrumentStore(createMemoryStore(), metrics),
  });
  const app = express();
  app.set('trust proxy', config.server.trustProxy);
  app.use(requestLogging(log, metrics.observeRequest));
  app.use(metricsRoutes(config, metrics));
  app.use(createApp(services));
  const logs = () => text.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
  return {
    app, services, config, metrics, logs, logText: () => text,
    audits: (type) => logs().filter((l) => l.audit === true).map((l) => l.event as Record<string, unknown>).filter((e) => type === undefined || e.type === type),
  };
}

export interface Sample {
  readonly name: string;
  readonly labels: Record<string, string>;
  readonly value: number;
}

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (-?[0-9.e+-]+|[Nn]a[Nn]|[+-]Inf)$/; // prom-client writes "Nan", which Prometheus (Go's ParseFloat) reads
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(?:,|$)/g;

/**
 * Reads the Prometheus text format strictly: every line a HELP, a TYPE or a sample, and every
 * sample of a family announced by TYPE (a histogram's _bucket/_sum/_count included).
 */
export function parseExposition(text: string): Sample[] {
  const types = new Map<string, string>();
  const samples: Sample[] = [];
  for (const line of text.split('\n').filter(Boolean)) {
    const type = /^# TYPE (\S+) (counter|gauge|histogram|summary|untyped)$/.exec(line);
    if (type) { types.set(type[1]!, type[2]!); continue; }
    if (/^# HELP \S+ .+$/.test(line)) continue;
    const m = SAMPLE.exec(line);
    expect(m, `not a sample line: ${line}`).not.toBeNull();
    const name = m![1]!;
    const family = types.has(name) ? name : name.replace(/_(bucket|sum|count)$/, '');
    expect(types.has(family), `no TYPE for ${name}`).toBe(true);
    const labels = Object.fromEntries([...(m![2] ?? '').matchAll(LABEL)].map((l) => [l[1]!, l[2]!]));
    samples.push({ name, labels, value: Number(m![3]) });
  }
  return samples;
}

/** GET /metrics from loopback, parsed. */
export async function scrape(t: MetricsApp): Promise<{ samples: Sample[]; text: string }> {
  const res = await request(t.app).get('/metrics');
  expect(res.status).toBe(200);
  expect(res.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
  return { samples: parseExposition(res.text), text: res.text };
}

/** The sum of the samples with this name whose labels include `labels` (0 when none). */
export function valueOf(samples: Sample[], name: string, labels: Record<string, string> = {}): number {
  const found = samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  return found.reduce((sum, s) => sum + s.value, 0);
}
