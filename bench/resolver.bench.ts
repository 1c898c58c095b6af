import { spawn } from 'node:child_process';
import { Agent, request } from 'node:http';
import { join } from 'node:path';
import { bundleForNode, launcherEnv, RUNTIME_NODE_ARGS } from '../scripts/start.mjs';
import { printedUrl, stopChild } from './child';
import { ascending, nearestRank } from './stats';
import type { RuntimeLoad, StoreCalls, UnifyServerStats } from './unify-server';
import { seededRandom, unifyWorkload, type Workload, zipfSampler } from './unify-workload';

const root = join(import.meta.dirname, '..');
const WRITE_KEY = 'bench-unify-write-key';
const ADMIN_KEY = 'bench-unify-admin-key';

export interface UnifyBenchOptions {
  readonly people: number;
  /** Events sent as fast as the resolver takes them (throughput and request costs). */
  readonly throughputEvents: number;
  /** Steady loads sent afterwards, one phase each, as fractions of the measured throughput. */
  readonly steadyLoads: readonly number[];
  /** How long each steady phase lasts (freshness, Profile API latency under load). */
  readonly steadySeconds: number;
  /** Probes per steady phase, at even intervals. */
  readonly probes: number;
  readonly senders: number;
  readonly seed: number;
}

export const UNIFY_DEFAULTS: UnifyBenchOptions = {
  people: 10_000,
  throughputEvents: 40_000,
  steadyLoads: [0.25, 0.5],
  steadySeconds: 25,
  probes: 120,
  senders: 4,
  seed: 3,
};

export interface Percentiles {
  readonly count: number;
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
}

export interface PhaseCost {
  readonly events: number;
  readonly seconds: number;
  readonly eventsPerSecond: number;
  readonly readsPerEvent: number;
  readonly writesPerEvent: number;
  /** DynamoDB write units the writes would be billed in AWS (estimated by the adapter from item sizes). */
  readonly writeUnitsPerEvent: number;
  readonly conditionFailures: number;
  readonly profilesCreated: number;
  readonly merges: number;
  /** Identity store calls by kind, per event. */
  readonly callsPerEvent: Readonly<Record<keyof StoreCalls, number>>;
  readonly meanBatchSize: number;
  readonly batchSizeHistogram: readonly number[];
  /** Share of the phase the resolver handler was running (summed over shards, so up to 4). */
  readonly resolverBusy: number;
  /** Messages planned again after a lost conditional write, by reason. */
  readonly replans: Readonly<Record<string, number>>;
}

export interface SteadyPhase extends PhaseCost {
  /** The load, as a fraction of the throughput phase's events/s. */
  readonly share: number;
  readonly offeredPerSecond: number;
  readonly runtime: RuntimeLoad;
  /** Collector's 200 → the Profile API lists the probe, in ms; probes not seen within 10 s time out. */
  readonly freshness: Percentiles & { readonly timeouts: number; readonly pollMs: number };
  readonly profileApi: Percentiles;
  /** The same requests split: about a person the Profile API had not been asked about, and again. */
  readonly profileApiAsks: ProfileApiAsks;
  /** `GET /health` of the same server, alternating with the Profile API requests: the baseline. */
  readonly health: Percentiles;
}

/**
 * Profile API requests by user id split by whether the person had been asked about before (by a
 * sample or a probe): the runtime remembers which profile an identifier led to, so a repeat reads
 * one item instead of two. `identifierReads`, counted in the runtime, is how many of all its lookups
 * by user id (`lookups`: samples and probes) read the identifier's item.
 */
export interface ProfileApiAsks {
  readonly first: Percentiles;
  readonly repeat: Percentiles;
  readonly lookups: number;
  readonly identifierReads: number;
}

export interface UnifyBenchResult {
  readonly options: UnifyBenchOptions;
  /** Resolver subscription settings overridden for an experiment (see unify-server.ts), if any. */
  readonly overrides: string | undefined;
  readonly workload: Pick<Workload, 'counts' | 'activePeople' | 'identifiedPeople'> & {
    /** The most active person's share of the messages. */
    readonly topPersonShare: number;
  };
  readonly throughput: PhaseCost & { readonly refused: number };
  /**
   * The baseline of events/s: one conditional put per event through the same SDK stack to dynalite,
   * in the runtime's process (idle), just before and just after the throughput phase (the mean).
   */
  readonly dynalitePutsPerSecond: number;
  readonly throughputLoad: RuntimeLoad;
  readonly steady: readonly SteadyPhase[];
  /** The Profile API and `/health` with nothing else running. */
  readonly idle: {
    readonly profileApi: Percentiles;
    readonly profileApiAsks: ProfileApiAsks;
    readonly health: Percentiles;
  };
  readonly peakRssMb: number;
  readonly totalSeconds: number;
}

/**
 * Issue 3's benchmark: the mixed workload of {@link unifyWorkload} through the local runtime (its own
 * process, the bundle as `npm start` runs it, dynalite on disk) over HTTP, as SDKs send it.
 *
 * 1. Throughput: the first `throughputEvents` as fast as the resolver takes them (senders hold back
 *    while the stream holds more than {@link MAX_BACKLOG} records, so the collector never refuses);
 *    events/s from the first send until the resolver has caught up, and the identity store's
 *    requests per event, counted at the DynamoDB adapter.
 * 2. Steady loads: `steadySeconds` each of the rest of the workload at each of `steadyLoads` × that
 *    throughput, with probes (a track call for a known person) whose time from the collector's 200
 *    to the Profile API listing them is the freshness, and Profile API requests whose latency is
 *    compared with `GET /health` of the same server at the same moments (its own cost, apart from the
 *    event loop they share); the runtime's CPU, event loop delay and resolver batches alongside.
 * 3. Idle: the same Profile API and `/health` requests with nothing else running.
 */
export async function benchUnify(options: UnifyBenchOptions = UNIFY_DEFAULTS): Promise<UnifyBenchResult> {
  const started = performance.now();
  // The same seeds give the same messages and batches, whatever the length: a longer workload only
  // adds to the end of a shorter one.
  const workloadOf = (events: number) => {
    const generated = unifyWorkload({ people: options.people, events, seed: options.seed });
    return { workload: generated, batches: toBatches(generated.messages, seededRandom(options.seed + 1)) };
  };
  // The steady phases continue it at shares of the throughput measured: enough for them is made then.
  let { workload, batches } = workloadOf(options.throughputEvents * 2);
  const split = batches.findIndex((batch) => batch.first >= options.throughputEvents);
  const throughputBatches = batches.slice(0, split);

  const server = await startServer();
  try {
    const client = new Client(server.url);

    // ---- 1. throughput -----------------------------------------------------------------------
    const baselines = [await server.baseline(BASELINE_MS)];
    const before = await server.stats();
    await server.load();
    let latest = before;
    let polling = true;
    const poller = (async () => {
      while (polling) {
        latest = await server.stats();
        await sleep(20);
      }
    })();
    let refused = 0;
    let inFlight = 0;
    const t0 = performance.now();
    await runSenders(throughputBatches, options.senders, async (batch) => {
      // Back-pressure as an SDK meets it, without the refusals: wait while the stream is full enough.
      while (latest.runtime.resolverLag + inFlight > MAX_BACKLOG) await sleep(5);
      inFlight += batch.messages.length;
      refused += await client.sendBatch(batch.messages);
      inFlight -= batch.messages.length;
    });
    const throughputEnd = await caughtUp(server);
    const throughputLoad = await server.load();
    const t1 = performance.now();
    polling = false;
    await poller;
    const throughput = { ...cost(before, throughputEnd, (t1 - t0) / 1000), refused };
    baselines.push(await server.baseline(BASELINE_MS));

    // ---- 2. steady loads with probes and Profile API samples ---------------------------------
    const steadyEvents = options.steadyLoads.reduce(
      (total, share) => total + Math.ceil(throughput.eventsPerSecond * share * options.steadySeconds),
      0,
    );
    // A fifth more, and a batch for each phase to end on.
    const needed =
      options.throughputEvents + Math.ceil(steadyEvents * 1.2) + 100 * options.steadyLoads.length;
    if (workload.messages.length < needed) ({ workload, batches } = workloadOf(needed));
    const probePeople = probeCandidates(workload, options.throughputEvents);
    const ask = askedAbout(workload.people.length, probePeople, seededRandom(options.seed + 2));
    /** User ids the Profile API has been asked about (by a sample or a probe). */
    const asked = new Set<string>();
    const sample = async (asks: AskLog) => {
      const person = ask();
      const repeat = asked.has(person.userId);
      asked.add(person.userId);
      const ms = await client.profileLatency(person.userId);
      (repeat ? asks.repeat : asks.first).push(ms);
      return ms;
    };
    const steady: SteadyPhase[] = [];
    let next = split;
    for (const [phase, share] of options.steadyLoads.entries()) {
      const rate = throughput.eventsPerSecond * share;
      const start = await server.stats();
      await server.load();
      const s0 = performance.now();
      const from = (batches[next] as Batch).first;
      // Open loop: each batch leaves at its time on the schedule (at once if the senders are behind).
      const dueOf = (batch: Batch) => s0 + ((batch.first - from) / rate) * 1000;
      let end = next;
      while (end < batches.length && dueOf(batches[end] as Batch) - s0 < options.steadySeconds * 1000) end++;
      if (end === batches.length) throw new Error('the workload is too short for the steady phases');
      const scheduled = batches.slice(next, end);
      next = end;
      let loadRunning = true;
      const load = runSenders(scheduled, options.senders, async (batch) => {
        const wait = dueOf(batch) - performance.now();
        if (wait > 0) await sleep(wait);
        await client.sendBatch(batch.messages);
      }).finally(() => {
        loadRunning = false;
      });
      // Probes at even intervals, each on its own (a late one does not delay the next, so a phase
      // always has them all). A probe polls every 10 ms for its first second and every 100 ms after,
      // so the polling — Profile API load too — stays bounded when the resolver falls behind.
      const freshness: number[] = [];
      let timeouts = 0;
      const probeInterval = (options.steadySeconds * 1000) / options.probes;
      const probes = Promise.all(
        Array.from({ length: options.probes }, async (_, k) => {
          await sleep((k + 0.5) * probeInterval);
          const person = probePeople[(phase * options.probes + k) % probePeople.length] as ProbePerson;
          asked.add(person.userId);
          const ms = await client.probe(person, `probe-${options.seed}-${phase}-${k}`);
          if (ms === undefined) timeouts++;
          else freshness.push(ms);
        }),
      );
      const profileApi: number[] = [];
      const asks: AskLog = { first: [], repeat: [] };
      const health: number[] = [];
      const sampler = (async () => {
        while (loadRunning) {
          profileApi.push(await sample(asks));
          health.push(await client.healthLatency());
          await sleep(SAMPLE_GAP_MS);
        }
      })();
      await Promise.all([load, probes, sampler]);
      const runtime = await server.load();
      const end2 = await caughtUp(server);
      steady.push({
        ...cost(start, end2, (performance.now() - s0) / 1000),
        share,
        offeredPerSecond: rate,
        runtime,
        freshness: { ...percentiles(freshness), timeouts, pollMs: PROBE_POLL_MS },
        profileApi: percentiles(profileApi),
        profileApiAsks: askFigures(asks, options.probes, start, end2),
        health: percentiles(health),
      });
    }

    // ---- 3. idle -----------------------------------------------------------------------------
    // After the lake writers' last periodic flush (every 2 s) of what the load left.
    await sleep(IDLE_SETTLE_MS);
    const idleProfile: number[] = [];
    const idleAsks: AskLog = { first: [], repeat: [] };
    const idleHealth: number[] = [];
    const idleStart = await server.stats();
    for (let i = 0; i < IDLE_SAMPLES; i++) {
      idleProfile.push(await sample(idleAsks));
      idleHealth.push(await client.healthLatency());
    }
    const last = await server.stats();
    client.close();
    const overrides = ['MOSAIC_BENCH_RESOLVER_BATCH_SIZE', 'MOSAIC_BENCH_RESOLVER_WINDOW_MS']
      .filter((name) => process.env[name])
      .map((name) => `${name}=${process.env[name]}`)
      .join(', ');
    return {
      options,
      overrides: overrides || undefined,
      workload: {
        counts: workload.counts,
        activePeople: workload.activePeople,
        identifiedPeople: workload.identifiedPeople,
        topPersonShare: workload.topPersonMessages / workload.messages.length,
      },
      throughput,
      throughputLoad,
      dynalitePutsPerSecond: baselines.reduce((a, b) => a + b, 0) / baselines.length,
      steady,
      idle: {
        profileApi: percentiles(idleProfile),
        profileApiAsks: askFigures(idleAsks, 0, idleStart, last),
        health: percentiles(idleHealth),
      },
      peakRssMb: last.peakRssMb,
      totalSeconds: (performance.now() - started) / 1000,
    };
  } finally {
    await server.stop();
  }
}

/** Most records the throughput phase lets wait in the stream (it holds 20,000 before refusing). */
const MAX_BACKLOG = 8000;
/** Each of the two baseline measurements. */
const BASELINE_MS = 2000;
const PROBE_POLL_MS = 10;
/** How often a probe not seen within a second is looked for (past the target, 10 ms precision is moot). */
const PROBE_LATE_POLL_MS = 100;
const PROBE_TIMEOUT_MS = 10_000;
/** Between two Profile API samples (each followed by a `/health` one): about 30 of each a second. */
const SAMPLE_GAP_MS = 25;
const IDLE_SAMPLES = 300;
const IDLE_SETTLE_MS = 3000;

interface Batch {
  /** Index of its first message in the workload. */
  readonly first: number;
  readonly messages: readonly Record<string, unknown>[];
}

/** The workload cut into SDK-sized batches of 20 to 100 messages, in order. */
function toBatches(messages: readonly Record<string, unknown>[], random: () => number): Batch[] {
  const batches: Batch[] = [];
  for (let first = 0; first < messages.length; ) {
    const size = 20 + Math.floor(random() * 81);
    batches.push({ first, messages: messages.slice(first, first + size) });
    first += size;
  }
  return batches;
}

/** `senders` concurrent loops taking the batches in order. */
async function runSenders(
  batches: readonly Batch[],
  senders: number,
  send: (batch: Batch) => Promise<void>,
): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: senders }, async () => {
      while (next < batches.length) await send(batches[next++] as Batch);
    }),
  );
}

interface ProbePerson {
  readonly userId: string;
  readonly anonymousId: string;
  /** Rank by activity in the workload, from 0 (the most active). */
  readonly rank: number;
}

/** Latencies of Profile API samples, by whether the person had been asked about before. */
interface AskLog {
  readonly first: number[];
  readonly repeat: number[];
}

function askFigures(
  asks: AskLog,
  probes: number,
  before: UnifyServerStats,
  after: UnifyServerStats,
): ProfileApiAsks {
  return {
    first: percentiles(asks.first),
    repeat: percentiles(asks.repeat),
    lookups: asks.first.length + asks.repeat.length + probes,
    identifierReads: after.apiCalls.getOwners - before.apiCalls.getOwners,
  };
}

/**
 * Whom the Profile API samples ask about: whoever acts next, as a site asks for the profile of the
 * person browsing — ranks drawn by the workload's own Zipf law (s = 1), kept when the person is one
 * of the probe people. So the most active are asked about most, and some never.
 */
function askedAbout(people: number, candidates: readonly ProbePerson[], random: () => number) {
  const byRank = new Map(candidates.map((person) => [person.rank, person]));
  const draw = zipfSampler(people, 1, random);
  return (): ProbePerson => {
    for (;;) {
      const person = byRank.get(draw());
      if (person !== undefined) return person;
    }
  };
}

/**
 * People whose user id the throughput phase sent (so they are known when probed), outside the most
 * active hundred: a probe must stay among a person's newest events for the few milliseconds it is
 * looked for, and the most active people send many events a second.
 */
function probeCandidates(workload: Workload, sent: number): ProbePerson[] {
  /** User id → the anonymous id of its first identify. */
  const identified = new Map<string, string>();
  for (const message of workload.messages.slice(0, sent)) {
    if (
      message.type === 'identify' &&
      typeof message.userId === 'string' &&
      !identified.has(message.userId)
    ) {
      identified.set(message.userId, message.anonymousId as string);
    }
  }
  const people = workload.people.slice(100, 2100).flatMap((person, i) => {
    const anonymousId = identified.get(person.userId);
    return anonymousId === undefined ? [] : [{ userId: person.userId, anonymousId, rank: 100 + i }];
  });
  if (people.length === 0) throw new Error('no identified person to probe');
  return people;
}

/** Once everything sent (all answered 200) is resolved: nothing left in the stream for the resolver. */
async function caughtUp(server: Server): Promise<UnifyServerStats> {
  for (;;) {
    const stats = await server.stats();
    if (stats.runtime.resolverLag === 0) return stats;
    await sleep(10);
  }
}

function cost(before: UnifyServerStats, after: UnifyServerStats, seconds: number): PhaseCost {
  const events = after.runtime.resolved - before.runtime.resolved;
  const per = (n: number) => n / Math.max(events, 1);
  const callsPerEvent = {} as Record<keyof StoreCalls, number>;
  for (const key of Object.keys(after.calls) as (keyof StoreCalls)[]) {
    callsPerEvent[key] = per(after.calls[key] - before.calls[key]);
  }
  const invocations = after.batches.invocations - before.batches.invocations;
  return {
    events,
    seconds,
    eventsPerSecond: events / seconds,
    readsPerEvent: per(after.runtime.identityStore.reads - before.runtime.identityStore.reads),
    writesPerEvent: per(after.runtime.identityStore.writes - before.runtime.identityStore.writes),
    writeUnitsPerEvent: per(after.runtime.identityStore.writeUnits - before.runtime.identityStore.writeUnits),
    conditionFailures:
      after.runtime.identityStore.conditionFailures - before.runtime.identityStore.conditionFailures,
    profilesCreated: after.runtime.profilesCreated - before.runtime.profilesCreated,
    merges: after.runtime.profilesMerged - before.runtime.profilesMerged,
    callsPerEvent,
    meanBatchSize: (after.batches.records - before.batches.records) / Math.max(invocations, 1),
    batchSizeHistogram: after.batches.sizeHistogram.map((n, i) => n - (before.batches.sizeHistogram[i] ?? 0)),
    resolverBusy: (after.batches.busyMs - before.batches.busyMs) / 1000 / seconds,
    replans: Object.fromEntries(
      Object.entries(after.replans)
        .map(([reason, n]) => [reason, n - (before.replans[reason] ?? 0)] as const)
        .filter(([, n]) => n > 0),
    ),
  };
}

export function percentiles(values: readonly number[]): Percentiles {
  const sorted = ascending(values);
  const at = (q: number) => nearestRank(sorted, q) ?? Number.NaN;
  return { count: sorted.length, p50: at(0.5), p99: at(0.99), max: at(1) };
}

// ---- the runtime's process ---------------------------------------------------------------------

interface Server {
  readonly url: string;
  stats(): Promise<UnifyServerStats>;
  /** The baseline's conditional puts per second over `ms`, measured in the runtime's process. */
  baseline(ms: number): Promise<number>;
  /** How busy the runtime was since the last call. */
  load(): Promise<RuntimeLoad>;
  stop(): Promise<void>;
}

async function startServer(): Promise<Server> {
  const bundle = await bundleForNode('bench/unify-server.ts', 'unify-server', {
    'unify-resolver-thread': 'bench/unify-resolver-thread.ts',
  });
  const child = spawn(
    process.execPath,
    [
      // For profiling, e.g. MOSAIC_BENCH_RUNTIME_NODE_ARGS='--cpu-prof --cpu-prof-dir=prof'.
      ...(process.env.MOSAIC_BENCH_RUNTIME_NODE_ARGS?.split(' ') ?? []),
      ...RUNTIME_NODE_ARGS,
      bundle,
      WRITE_KEY,
      ADMIN_KEY,
    ],
    {
      cwd: root,
      stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
      env: launcherEnv(),
    },
  );
  const pending = new Map<number, (value: unknown) => void>();
  let ids = 0;
  child.on('message', (message: { id: number; value: unknown }) => {
    pending.get(message.id)?.(message.value);
    pending.delete(message.id);
  });
  const ask = <T>(request: { type: 'stats' | 'load' } | { type: 'baseline'; ms: number }) =>
    new Promise<T>((resolve) => {
      const id = ids++;
      pending.set(id, resolve as (value: unknown) => void);
      child.send({ id, ...request });
    });
  const url = await printedUrl(child, /running at (http:\/\/\S+)/);
  return {
    url,
    stats: () => ask<UnifyServerStats>({ type: 'stats' }),
    baseline: (ms) => ask<number>({ type: 'baseline', ms }),
    load: () => ask<RuntimeLoad>({ type: 'load' }),
    stop: () => stopChild(child),
  };
}

// ---- HTTP ----------------------------------------------------------------------------------------

interface Answer {
  readonly status: number;
  readonly body: string;
}

/**
 * The bench's HTTP client: node:http with keep-alive, one agent for the load (a socket per sender)
 * and one for each kind of measurement, so a measured request never queues behind a load request.
 */
class Client {
  private readonly load = new Agent({ keepAlive: true, maxSockets: 16 });
  private readonly probes = new Agent({ keepAlive: true, maxSockets: 8 });
  private readonly samples = new Agent({ keepAlive: true, maxSockets: 1 });
  private readonly basic = `Basic ${Buffer.from(`${WRITE_KEY}:`).toString('base64')}`;
  private readonly bearer = `Bearer ${ADMIN_KEY}`;

  constructor(private readonly url: string) {}

  /** Sends one batch as an SDK does, stamping its messages; retries refusals. Returns how many there were. */
  async sendBatch(messages: readonly Record<string, unknown>[]): Promise<number> {
    const now = new Date().toISOString();
    const body = JSON.stringify({
      batch: messages.map((message) => ({ ...message, timestamp: now })),
      sentAt: now,
    });
    for (let refused = 0; ; refused++) {
      const answer = await this.send(this.load, 'POST', '/v1/batch', this.basic, body);
      if (answer.status === 200) return refused;
      if (answer.status !== 503 && answer.status !== 429) {
        throw new Error(`collector answered ${answer.status}: ${answer.body.slice(0, 200)}`);
      }
      await sleep(50 * 2 ** Math.min(refused, 5));
    }
  }

  /**
   * Sends a probe track call for a known person and polls the Profile API (`/events` of the person's
   * profile, by profile id) until it lists it (every 10 ms for a second, then every 100 ms): ms from the collector's 200 to the answer that shows it;
   * undefined after 10 s.
   */
  async probe(person: ProbePerson, messageId: string) {
    // Not timed: which profile the person has now (a merge later is followed by the Profile API).
    const found = await this.send(
      this.probes,
      'GET',
      `/v1/profiles/user_id:${encodeURIComponent(person.userId)}`,
      this.bearer,
    );
    if (found.status !== 200) throw new Error(`probe person not found: ${found.status} ${found.body}`);
    const { profileId } = JSON.parse(found.body) as { profileId: string };
    const body = JSON.stringify({
      type: 'track',
      event: 'Bench Probe',
      messageId,
      userId: person.userId,
      anonymousId: person.anonymousId,
      timestamp: new Date().toISOString(),
      properties: { probe: true },
    });
    const sent = await this.send(this.probes, 'POST', '/v1/track', this.basic, body);
    if (sent.status !== 200) throw new Error(`probe refused: ${sent.status} ${sent.body.slice(0, 200)}`);
    const accepted = performance.now();
    // By profile id: the same profile as by user id, in one DynamoDB read a poll instead of two.
    const path = `/v1/profiles/profile_id:${profileId}/events?limit=20`;
    for (let waited = 0; waited < PROBE_TIMEOUT_MS; waited = performance.now() - accepted) {
      const answer = await this.send(this.probes, 'GET', path, this.bearer);
      if (answer.status === 200 && answer.body.includes(`"${messageId}"`))
        return performance.now() - accepted;
      if (answer.status !== 200 && answer.status !== 404) {
        throw new Error(`Profile API answered ${answer.status}: ${answer.body.slice(0, 200)}`);
      }
      await sleep(waited < 1000 ? PROBE_POLL_MS : PROBE_LATE_POLL_MS);
    }
    return undefined;
  }

  async profileLatency(userId: string): Promise<number> {
    const start = performance.now();
    const answer = await this.send(
      this.samples,
      'GET',
      `/v1/profiles/user_id:${encodeURIComponent(userId)}`,
      this.bearer,
    );
    if (answer.status !== 200) throw new Error(`Profile API answered ${answer.status}: ${answer.body}`);
    return performance.now() - start;
  }

  async healthLatency(): Promise<number> {
    const start = performance.now();
    const answer = await this.send(this.samples, 'GET', '/health');
    if (answer.status !== 200) throw new Error(`/health answered ${answer.status}`);
    return performance.now() - start;
  }

  close(): void {
    for (const agent of [this.load, this.probes, this.samples]) agent.destroy();
  }

  private send(agent: Agent, method: string, path: string, authorization?: string, body?: string) {
    return new Promise<Answer>((resolve, reject) => {
      const req = request(
        `${this.url}${path}`,
        {
          agent,
          method,
          headers: {
            ...(authorization === undefined ? {} : { authorization }),
            ...(body === undefined
              ? {}
              : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }),
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () =>
            resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }),
          );
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  }
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
