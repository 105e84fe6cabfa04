import request from 'supertest';
import { expect } from 'vitest';
import type { DirectoryConfig } from '../../src/config/schema.js';
import type { Metrics } from '../../src/observability/metrics.js';
import { startTestApp, type TestApp } from '../harness/app.js';

/** The real app (startTestApp), with its metrics at hand. */
export interface MetricsApp extends TestApp {
  readonly metrics: Metrics;
}

export async function startMetricsApp(raw: Record<string, unknown> = {}, directoryConfig?: DirectoryConfig): Promise<MetricsApp> {
  const t = await startTestApp(raw, { directoryConfig });
  return { ...t, metrics: t.services.metrics };
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
