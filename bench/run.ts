// `npm run bench`: every benchmark, each against a baseline measured in the same run, with the
// figures and the machine written to bench/RESULTS.md.

import { writeFile } from 'node:fs/promises';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { benchCollectorHandler } from './collector-handler.bench';
import { benchCollectorHttp } from './collector-http.bench';
import { benchUnify } from './resolver.bench';

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

process.stdout.write(
  '\nUnify: the mixed workload through the local runtime (collector → stream → resolver on dynalite → Profile API)...\n',
);
const unify = await benchUnify();
const t = unify.throughput;
const graphWrites = (c: typeof t.callsPerEvent) =>
  c.createProfile +
  c.claimIdentifier +
  c.writeProfileAbsorb +
  c.writeProfileClear +
  c.repointIdentifier +
  c.markMerging +
  c.retireProfile +
  c.ledgerEntries;
const ms = (n: number) => `${fmt(n, n < 10 ? 1 : 0)} ms`;
const freshnessOk = unify.freshness.p99 <= 1000 && unify.freshness.timeouts === 0;
process.stdout.write(
  `  ${fmt(t.events)} events in ${fmt(t.seconds, 1)} s: ${fmt(t.eventsPerSecond)} events/s end to end; dynalite alone ${fmt(unify.dynalitePutsPerSecond)} puts/s, ratio ${fmt(t.eventsPerSecond / unify.dynalitePutsPerSecond, 3)}\n` +
    `  DynamoDB per event: ${fmt(t.writesPerEvent, 3)} writes, ${fmt(t.readsPerEvent, 3)} reads; ${fmt(t.profilesCreated)} profiles created, ${fmt(t.merges)} merges; mean resolver batch ${fmt(t.meanBatchSize)}\n` +
    `  steady ${fmt(unify.steady.offeredPerSecond)} events/s: freshness p50 ${ms(unify.freshness.p50)} p99 ${ms(unify.freshness.p99)} (${unify.freshness.count} probes, ${unify.freshness.timeouts} timed out)\n` +
    `  Profile API p50/p99 ${ms(unify.profileApi.loaded.p50)}/${ms(unify.profileApi.loaded.p99)} under load, ${ms(unify.profileApi.idle.p50)}/${ms(unify.profileApi.idle.p99)} idle; /health ${ms(unify.health.loaded.p50)}/${ms(unify.health.loaded.p99)} and ${ms(unify.health.idle.p50)}/${ms(unify.health.idle.p99)}\n` +
    `  peak RSS ${fmt(unify.peakRssMb)} MB; ${fmt(unify.totalSeconds)} s in all\n`,
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

## Unify (issue #3)

The mixed workload of \`bench/unify-workload.ts\` (seed ${unify.options.seed}): ${fmt(unify.options.people)} people with
Zipf-distributed activity (s = 1; the most active sent ${fmt(unify.workload.topPersonMessages)} messages), 1–3 devices each,
browsing anonymously until an identify or alias; identifies on a second device merge (a quarter of them
through the email alone). ${unify.options.senders} senders post \`/v1/batch\` bodies of 20–100 messages to the local runtime,
which runs in its own process as \`npm start\` runs it (collector, in-process stream, resolver on dynalite on
disk, Profile API behind the admin-key authorizer). DynamoDB requests are counted at the adapter.${unify.overrides ? `\n**Experiment: ${unify.overrides}.**` : ''}

1. **Throughput**: the first ${fmt(t.events)} events (${fmt(unify.workload.counts.track)} track, ${fmt(unify.workload.counts.page)} page, ${fmt(unify.workload.counts.identify)} identify, ${fmt(unify.workload.counts.alias)} alias over
   both phases) as fast as the resolver takes them — the senders hold back while the stream holds 8,000
   records, so the collector never refuses — timed from the first send until the resolver has caught up.
   Baseline: one conditional put per event through the same SDK client to a dynalite of its own in the
   runtime's process, ${unify.options.senders} loops, measured while the runtime is idle just before and after (the mean).
2. **Steady load**: ${fmt(unify.options.steadySeconds)} s more of the workload at ${fmt(unify.options.steadyLoad * 100)} % of that throughput (${fmt(unify.steady.offeredPerSecond)} events/s), with
   ${unify.options.probes} probes — a track call for a known person — each timed from the collector's 200 until
   \`GET /v1/profiles/user_id:…/events\` (polled every ${unify.freshness.pollMs} ms) lists it, and \`GET /v1/profiles/user_id:…\`
   alternating with \`GET /health\` of the same server (its baseline: same process, same moments).
3. **Idle**: the same Profile API and \`/health\` requests with nothing else running.

| measure | value | baseline | target | |
| --- | --- | --- | --- | --- |
| events/s, accepted → resolved | ${fmt(t.eventsPerSecond)} | ${fmt(unify.dynalitePutsPerSecond)} puts/s | | |
| ratio | ${fmt(t.eventsPerSecond / unify.dynalitePutsPerSecond, 3)} | 1 | | |
| DynamoDB writes/event | ${fmt(t.writesPerEvent, 3)} | | ≤ 1.0 | ${verdict(t.writesPerEvent <= 1)} |
| | | | stretch ≤ 0.3 | ${verdict(t.writesPerEvent <= 0.3)} |
| DynamoDB reads/event | ${fmt(t.readsPerEvent, 3)} | | | |
| freshness p50 | ${ms(unify.freshness.p50)} | | | |
| freshness p99 (${unify.freshness.count} probes, ${unify.freshness.timeouts} timed out) | ${ms(unify.freshness.p99)} | | ≤ 1 s | ${verdict(freshnessOk)} |
| Profile API p50, under load | ${ms(unify.profileApi.loaded.p50)} | ${ms(unify.health.loaded.p50)} | | |
| Profile API p99, under load | ${ms(unify.profileApi.loaded.p99)} | ${ms(unify.health.loaded.p99)} | ≤ 20 ms | ${verdict(unify.profileApi.loaded.p99 <= 20)} |
| Profile API p50, idle | ${ms(unify.profileApi.idle.p50)} | ${ms(unify.health.idle.p50)} | | |
| Profile API p99, idle | ${ms(unify.profileApi.idle.p99)} | ${ms(unify.health.idle.p99)} | ≤ 20 ms | ${verdict(unify.profileApi.idle.p99 <= 20)} |
| runtime's event loop delay under load, p50 / p99 | ${ms(unify.steady.loopDelay.p50)} / ${ms(unify.steady.loopDelay.p99)} | | | |
| peak RSS | ${fmt(unify.peakRssMb)} MB | | | |

Where the throughput phase's writes and reads came from, per event (the steady phase, at lower load,
sees smaller resolver batches: its writes are for comparison; its reads include the Profile API's):

| per event | throughput | steady |
| --- | --- | --- |
| profiles created | ${fmt(t.callsPerEvent.createProfile, 3)} | ${fmt(unify.steady.callsPerEvent.createProfile, 3)} |
| identifiers claimed | ${fmt(t.callsPerEvent.claimIdentifier, 3)} | ${fmt(unify.steady.callsPerEvent.claimIdentifier, 3)} |
| merge steps and ledger entries | ${fmt(graphWrites(t.callsPerEvent) - t.callsPerEvent.createProfile - t.callsPerEvent.claimIdentifier, 3)} | ${fmt(graphWrites(unify.steady.callsPerEvent) - unify.steady.callsPerEvent.createProfile - unify.steady.callsPerEvent.claimIdentifier, 3)} |
| profile writes (coalesced flushes, identifiers listed) | ${fmt(t.callsPerEvent.writeProfile, 3)} | ${fmt(unify.steady.callsPerEvent.writeProfile, 3)} |
| **writes** | **${fmt(t.writesPerEvent, 3)}** | **${fmt(unify.steady.writesPerEvent, 3)}** |
| reads | ${fmt(t.readsPerEvent, 3)} | ${fmt(unify.steady.readsPerEvent, 3)} |
| conditional writes that did not hold | ${fmt(t.conditionFailures / Math.max(t.events, 1), 4)} | ${fmt(unify.steady.conditionFailures / Math.max(unify.steady.events, 1), 4)} |
| mean resolver batch (records) | ${fmt(t.meanBatchSize)} | ${fmt(unify.steady.meanBatchSize)} |
`;
await writeFile(join(import.meta.dirname, 'RESULTS.md'), report);
process.stdout.write('\nWritten to bench/RESULTS.md\n');
