// `npm run bench`: every benchmark, each against a baseline measured in the same run, with the
// figures and the machine written to bench/RESULTS.md.

import { writeFile } from 'node:fs/promises';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { benchCollectorHandler } from './collector-handler.bench';
import { benchCollectorHttp } from './collector-http.bench';

const fmt = (n: number, digits = 0) =>
  n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
const verdict = (ok: boolean) => (ok ? 'met' : '**not met**');

const machine = `${cpus().length} × ${cpus()[0]?.model ?? 'unknown CPU'}, ${fmt(totalmem() / 2 ** 30)} GiB, Node ${process.version}, ${process.platform}/${process.arch}`;
process.stdout.write(`Machine: ${machine}\n\n`);

process.stdout.write('Collector handler in-process (20-message batches into the in-memory stream)...\n');
const handler = await benchCollectorHandler();
process.stdout.write(
  `  handler ${fmt(handler.eventsPerSecond)} events/s, JSON.parse ${fmt(handler.parseEventsPerSecond)} events/s, ratio ${fmt(handler.ratio, 3)}\n\n`,
);

process.stdout.write('Collector over HTTP on the local runtime vs a bare node:http + JSON.parse server...\n');
const http = await benchCollectorHttp();
process.stdout.write(
  `  mosaic ${fmt(http.mosaic.eventsPerSecond)} events/s p99 ${http.mosaic.latencyP99} ms peak RSS ${fmt(http.mosaic.peakRssMb)} MB\n` +
    `  baseline ${fmt(http.baseline.eventsPerSecond)} events/s p99 ${http.baseline.latencyP99} ms peak RSS ${fmt(http.baseline.peakRssMb)} MB\n` +
    `  ratio ${fmt(http.ratio, 3)}\n`,
);

const report = `# Benchmark results

Written by \`npm run bench\` on ${new Date().toISOString().slice(0, 10)}. Every figure is a ratio against a
baseline measured in the same run on the same machine, so they compare across machines; the absolute
numbers are for this machine only.

Machine: ${machine}.

## Ingest (issue #2)

### Collector handler, in-process
20-message batches of analytics.js-shaped messages (${fmt(handler.bodyBytes)} bytes per batch body), through the
collector's HTTP handler into the in-memory stream, against \`JSON.parse\` of the same bodies; the two
alternate in rounds.

| measure | value | target | |
| --- | --- | --- | --- |
| handler, validated events/s | ${fmt(handler.eventsPerSecond)} | | |
| \`JSON.parse\` of the same bodies, events/s | ${fmt(handler.parseEventsPerSecond)} | | |
| ratio | ${fmt(handler.ratio, 3)} | ≥ 0.5 | ${verdict(handler.ratio >= 0.5)} |

### Collector over HTTP, local runtime
The local runtime (collector, in-process stream, Parquet lake writer) and a bare \`node:http\` server that
only reads and \`JSON.parse\`s the body each in their own process; autocannon in a third, ${http.connections}
connections, ${http.durationSeconds} s after a 2 s warm-up, 20-message batches.

| measure | Mosaic | bare node:http + JSON.parse | target | |
| --- | --- | --- | --- | --- |
| events/s | ${fmt(http.mosaic.eventsPerSecond)} | ${fmt(http.baseline.eventsPerSecond)} | | |
| ratio | ${fmt(http.ratio, 3)} | 1 | ≥ 0.5 | ${verdict(http.ratio >= 0.5)} |
| p50 latency | ${http.mosaic.latencyP50} ms | ${http.baseline.latencyP50} ms | | |
| p99 latency | ${http.mosaic.latencyP99} ms | ${http.baseline.latencyP99} ms | < 50 ms | ${verdict(http.mosaic.latencyP99 < 50)} |
| peak RSS | ${fmt(http.mosaic.peakRssMb)} MB | ${fmt(http.baseline.peakRssMb)} MB | ≤ 200 MB | ${verdict(http.mosaic.peakRssMb <= 200)} |
| non-2xx / errors | ${http.mosaic.non2xx} / ${http.mosaic.errors} | ${http.baseline.non2xx} / ${http.baseline.errors} | 0 | ${verdict(http.mosaic.non2xx === 0 && http.mosaic.errors === 0)} |
`;
await writeFile(join(import.meta.dirname, 'RESULTS.md'), report);
process.stdout.write('\nWritten to bench/RESULTS.md\n');
