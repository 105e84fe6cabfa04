/**
 * bench/floor-server.ts in N processes sharing one port through node:cluster, as `fedgate serve
 * --workers N` shares it: bench/signin.ts --cores --floor measures how the lean server scales
 * on this machine with wrk on the same cores, beside fedgate's figure.
 *
 *   node --import tsx bench/floor-cluster.ts SLAPD_URL PORT WORKERS
 */
import cluster from 'node:cluster';
import { startFloorServer } from './floor-server.js';

const [slapdUrl, port, workers] = process.argv.slice(2) as [string, string, string];
if (cluster.isPrimary) {
  for (let i = 0; i < Number(workers); i++) cluster.fork();
  process.on('SIGTERM', () => { for (const worker of Object.values(cluster.workers ?? {})) worker?.kill(); process.exit(0); });
} else {
  await startFloorServer(slapdUrl, Number(port));
  console.log('"fedgate is listening"'); // what bench/signin.ts --cores waits for, once per worker
}
