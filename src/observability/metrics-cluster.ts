import cluster from 'node:cluster';
import { AggregatorRegistry, type PrometheusContentType } from 'prom-client';
import type { Metrics } from './metrics.js';

/**
 * /metrics with node:cluster workers. Each worker counts in its own registry, and a scrape reaches
 * whichever worker accepts it (they share the port): that worker asks the primary, which collects
 * every worker's registry over prom-client's cluster protocol and aggregates them (counters and
 * histograms summed, certificate days the minimum). Prometheus sees one node, as with one process.
 */
const REQUEST = 'fedgate:metrics-request';
const RESPONSE = 'fedgate:metrics-response';
/** prom-client gives up on a worker after 5 s; a little more, so its error is the one reported. */
const WORKER_TIMEOUT_MS = 6_000;

interface MetricsMessage {
  readonly type: string;
  readonly id: number;
  readonly text?: string;
  readonly error?: string;
}

const isMessage = (m: unknown, type: string): m is MetricsMessage => typeof m === 'object' && m !== null && (m as MetricsMessage).type === type;

let aggregator: AggregatorRegistry<PrometheusContentType> | undefined;

/** In the primary: every worker's metrics, aggregated, in Prometheus text format. */
export function aggregateMetrics(): Promise<string> {
  aggregator ??= new AggregatorRegistry(); // its constructor starts listening for the workers' answers
  return aggregator.clusterMetrics();
}

/** In the primary: answers the workers' /metrics requests with aggregateMetrics(). */
export function serveClusterMetrics(): void {
  cluster.on('message', (worker, message: unknown) => {
    if (!isMessage(message, REQUEST)) return;
    aggregateMetrics().then(
      (text) => worker.send({ type: RESPONSE, id: message.id, text }),
      (err: unknown) => worker.send({ type: RESPONSE, id: message.id, error: err instanceof Error ? err.message : String(err) }),
    );
  });
}

/**
 * In a worker: offers this worker's registry to the primary, and returns the source of /metrics
 * (metricsRoutes' `source` option) that asks the primary for every worker's.
 */
export function clusterMetricsSource(metrics: Metrics): () => Promise<string> {
  AggregatorRegistry.setRegistries([metrics.withProcessMetrics()]);
  void new AggregatorRegistry(); // in a worker, its constructor starts answering the primary
  const waiting = new Map<number, { resolve: (text: string) => void; reject: (err: Error) => void }>();
  let next = 0;
  process.on('message', (message: unknown) => {
    if (!isMessage(message, RESPONSE)) return;
    const request = waiting.get(message.id);
    waiting.delete(message.id);
    if (message.error !== undefined) request?.reject(new Error(`cluster metrics: ${message.error}`));
    else request?.resolve(message.text ?? '');
  });
  return () => new Promise<string>((resolve, reject) => {
    const id = next++;
    const timer = setTimeout(() => {
      waiting.delete(id);
      reject(new Error('cluster metrics: the primary did not answer'));
    }, WORKER_TIMEOUT_MS);
    const settle = <T>(done: (value: T) => void) => (value: T) => { clearTimeout(timer); done(value); };
    waiting.set(id, { resolve: settle(resolve), reject: settle(reject) });
    process.send?.({ type: REQUEST, id });
  });
}
