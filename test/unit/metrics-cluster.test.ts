import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { parseExposition, valueOf } from '../http/metrics-app.js';

/** /metrics under node:cluster: a scrape on one worker shows the whole node (metrics-cluster.fixture.ts). */
describe('metrics across cluster workers', () => {
  it('one worker\'s /metrics source aggregates both: sign-ins summed, certificate days the minimum, process metrics included', async () => {
    const fixture = fileURLToPath(new URL('./metrics-cluster.fixture.ts', import.meta.url));
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', fixture], { timeout: 20_000 });
    const samples = parseExposition(stdout);
    expect(valueOf(samples, 'fedgate_signins_total', { protocol: 'portal', outcome: 'success' })).toBe(2);
    expect(valueOf(samples, 'fedgate_signing_certificate_days_left', { certificate: 'current' })).toBeCloseTo(50, 1);
    expect(valueOf(samples, 'process_cpu_user_seconds_total')).toBeGreaterThan(0);
  });
});
