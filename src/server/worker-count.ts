import { availableParallelism } from 'node:os';
import type { Config } from '../config/schema.js';

/**
 * How many worker processes `fedgate serve` runs: --workers (a number or auto) overrides
 * server.workers; auto is one per core with Redis state and one with memory state. Returns an
 * error message for a count that would split state (the schema refuses the configured one; the
 * flag is checked here).
 */
export function workerCount(config: Config, flag: string | undefined): number | { error: string } {
  let wanted: number | 'auto' = config.server.workers;
  if (flag !== undefined) {
    if (flag !== 'auto' && !/^[1-9]\d{0,2}$/.test(flag)) return { error: `--workers: a number of processes (1-256) or auto, not ${flag}` };
    wanted = flag === 'auto' ? 'auto' : Number(flag);
    if (wanted !== 'auto' && wanted > 256) return { error: '--workers: at most 256' };
  }
  if (wanted === 'auto') return config.state.type === 'redis' ? availableParallelism() : 1;
  if (wanted > 1 && config.state.type === 'memory') {
    return { error: `--workers ${wanted}: several workers need state.type redis: with memory state each worker would have its own sessions` };
  }
  return wanted;
}
