// The activation benchmark (issue #5): a 100,000-member audience export delivered by the local runtime
// to a local webhook receiver — members/s, time from the export request to the last delivery, peak
// RSS — alone, and while a second destination subscribed to the same segment fails every request.
//
// The people are made once, through the runtime as SDKs would send them (identify calls with email,
// phone, traits and consent → collector → stream → resolver → profiles and lake), and the runtime's data
// directory is cached under node_modules/.cache/mosaic-bench/activation-v1/. Each round copies it and
// runs the runtime exactly as `npm start` does (the bundle, in its own process, destinations from
// MOSAIC_DESTINATIONS); the receivers run here, verifying every signature as a receiver should.
import { spawn } from 'node:child_process';
import { cp, mkdir, mkdtemp, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { bundleLocalRuntime, launcherEnv, RUNTIME_NODE_ARGS } from '../scripts/start.mjs';
import { verifySignature } from '../src/core/activation/signing';
import { hashKey } from '../src/core/auth/hashed-keys';
import { hashWriteKey } from '../src/core/collector/write-keys';
import type { ExportView } from '../src/core/segments/views';
import { startLocalRuntime } from '../src/local/runtime';
import { silentLogger } from '../src/ports/logger';
import { peakRssMb, printedUrl, stopChild } from './child';

const root = join(import.meta.dirname, '..');
const VERSION = 'activation-v1';
const WRITE_KEY = 'bench-activation-write-key';
const ADMIN_KEY = 'bench-activation-admin-key';
const SEGMENT = 'everyone';
const HEALTHY_SECRET = 'whsec_bench_healthy_0123456789';
const FAILING_SECRET = 'whsec_bench_failing_0123456789';

export interface ActivationBenchOptions {
  readonly people: number;
  /** Rounds of each scenario, in turns (solo, beside a failing destination, beside a churning one, solo, ...). */
  readonly rounds: number;
  readonly batchSize: number;
}

export const ACTIVATION_BENCH_DEFAULTS: ActivationBenchOptions = {
  people: 100_000,
  rounds: 2,
  batchSize: 1000,
};

/** Who consents to what: 90 % granted email marketing, 5 % denied, 5 % never said. */
const consentOf = (i: number): boolean | undefined =>
  i % 20 === 0 ? false : i % 20 === 1 ? undefined : true;

/**
 * - `solo`: the healthy destination alone;
 * - `failing`: beside a destination whose receiver answers 503 to everything, on the default retry
 *   policy (back-off from 1 s, doubling, 8 attempts; then the batch goes to its dead-letter file);
 * - `churning`: beside the same failing receiver with a retry policy that gives up fast (3 attempts,
 *   50–200 ms apart): it runs batches through their retries into its dead letters as fast as it can
 *   until it is taken for down (three in a row) and cools down — the most a down destination takes
 *   from a healthy one in the process the two share.
 */
export const SCENARIOS = ['solo', 'failing', 'churning'] as const;
export type Scenario = (typeof SCENARIOS)[number];

export interface DeliveryRun {
  readonly scenario: Scenario;
  /** Members the healthy receiver got (each once). */
  readonly members: number;
  /** Requests it answered. */
  readonly requests: number;
  /** Export request → export SUCCEEDED. */
  readonly exportSeconds: number;
  /** Export request → the healthy receiver's last member. */
  readonly endToEndSeconds: number;
  /** The healthy receiver's first request → its last: the delivery itself. */
  readonly deliverySeconds: number;
  /** Members per second over the delivery. */
  readonly membersPerSecond: number;
  /** Requests the failing receiver refused meanwhile (0 alone). */
  readonly failingRequests: number;
  readonly peakRssMb: number;
}

export interface ActivationBenchResult {
  readonly options: ActivationBenchOptions;
  /** Export members, and the expected deliveries (granted consent). */
  readonly exportMembers: number;
  readonly expectedMembers: number;
  readonly datasetCached: boolean;
  readonly datasetSeconds: number;
  /** The machine's 1-minute load average before the rounds and after them. */
  readonly loadAverage: readonly [number, number];
  readonly runs: readonly DeliveryRun[];
  /** Mean members/s of each scenario. */
  readonly membersPerSecond: Readonly<Record<Scenario, number>>;
  /** Beside the failing destination ÷ alone: the issue's target (≥ 0.8). */
  readonly ratio: number;
  /** Beside the churning destination ÷ alone. */
  readonly churningRatio: number;
}

export async function benchActivation(
  options: ActivationBenchOptions = ACTIVATION_BENCH_DEFAULTS,
  progress: (line: string) => void = () => {},
): Promise<ActivationBenchResult> {
  const dataset = await activationDataset(options.people, progress);
  const bundle = await bundleLocalRuntime();
  const healthy = await Receiver.start(() => 200, HEALTHY_SECRET);
  const failing = await Receiver.start(() => 503, FAILING_SECRET);
  const runs: DeliveryRun[] = [];
  const loadBefore = loadavg()[0] ?? 0;
  try {
    for (let round = 0; round < options.rounds; round++) {
      for (const scenario of SCENARIOS) {
        const run = await deliveryRound({
          bundle,
          dataDir: dataset.dir,
          healthy,
          failing,
          scenario,
          batchSize: options.batchSize,
          expected: dataset.expectedMembers,
        });
        progress(
          `  ${run.scenario}: ${run.members.toLocaleString('en-US')} members in ${run.deliverySeconds.toFixed(2)} s ` +
            `(${Math.round(run.membersPerSecond).toLocaleString('en-US')} members/s), export ${run.exportSeconds.toFixed(2)} s, ` +
            `end to end ${run.endToEndSeconds.toFixed(2)} s, failing receiver refused ${run.failingRequests}, peak RSS ${Math.round(run.peakRssMb)} MB`,
        );
        runs.push(run);
      }
    }
  } finally {
    await healthy.close();
    await failing.close();
  }
  const mean = (scenario: Scenario) => {
    const of = runs.filter((r) => r.scenario === scenario);
    return of.reduce((sum, r) => sum + r.membersPerSecond, 0) / of.length;
  };
  const membersPerSecond = { solo: mean('solo'), failing: mean('failing'), churning: mean('churning') };
  return {
    options,
    exportMembers: options.people,
    expectedMembers: dataset.expectedMembers,
    datasetCached: dataset.cached,
    datasetSeconds: dataset.seconds,
    loadAverage: [loadBefore, loadavg()[0] ?? 0],
    runs,
    membersPerSecond,
    ratio: membersPerSecond.failing / membersPerSecond.solo,
    churningRatio: membersPerSecond.churning / membersPerSecond.solo,
  };
}

// ---- one round ------------------------------------------------------------------------------------

interface RoundOptions {
  readonly bundle: string;
  readonly dataDir: string;
  readonly healthy: Receiver;
  readonly failing: Receiver;
  readonly scenario: Scenario;
  readonly batchSize: number;
  readonly expected: number;
}

async function deliveryRound(options: RoundOptions): Promise<DeliveryRun> {
  const { healthy, failing, scenario } = options;
  healthy.reset();
  failing.reset();
  const work = await mkdtemp(join(tmpdir(), 'mosaic-bench-activation-'));
  const dataDir = join(work, 'data');
  await cp(options.dataDir, dataDir, { recursive: true });
  const fields = {
    identifiers: [
      { type: 'email', pii: 'sha256' },
      { type: 'phone', pii: 'sha256' },
    ],
    traits: [
      { name: 'first_name', pii: 'raw' },
      { name: 'plan', pii: 'raw' },
    ],
  };
  const destination = (name: string, url: string, signingSecretRef: string) => ({
    kind: 'webhook',
    name,
    segments: [SEGMENT],
    url,
    auth: { type: 'none' },
    signingSecretRef,
    consent: { category: 'email_marketing' },
    batchSize: options.batchSize,
    // The bench measures the pipeline, not a rate limit.
    rateLimitPerSecond: 10_000,
    fields,
  });
  const destinations: Record<string, unknown>[] = [destination('healthy', healthy.url, 'healthy-signing')];
  if (scenario === 'failing') destinations.push(destination('failing', failing.url, 'failing-signing'));
  if (scenario === 'churning') {
    destinations.push({
      ...destination('failing', failing.url, 'failing-signing'),
      retry: { maxAttempts: 3, baseDelayMs: 50, maxDelayMs: 200 },
    });
  }
  const child = spawn(
    process.execPath,
    [
      // For profiling, e.g. MOSAIC_BENCH_RUNTIME_NODE_ARGS='--cpu-prof --cpu-prof-dir=prof'.
      ...(process.env.MOSAIC_BENCH_RUNTIME_NODE_ARGS?.split(' ') ?? []),
      ...RUNTIME_NODE_ARGS,
      options.bundle,
    ],
    {
      cwd: root,
      // Its error log (the dead letters of the failing destination) is kept, and shown if the round fails.
      stdio: ['ignore', 'pipe', 'pipe'],
      env: launcherEnv({
        PORT: '0',
        MOSAIC_DATA_DIR: dataDir,
        MOSAIC_WRITE_KEY: WRITE_KEY,
        MOSAIC_ADMIN_KEY: ADMIN_KEY,
        MOSAIC_LOG_LEVEL: 'error',
        MOSAIC_DESTINATIONS: JSON.stringify({ destinations }),
        MOSAIC_DESTINATION_SECRETS: JSON.stringify({
          'healthy-signing': HEALTHY_SECRET,
          'failing-signing': FAILING_SECRET,
        }),
      }),
    },
  );
  let errors = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    errors = (errors + chunk.toString()).slice(-4000);
  });
  try {
    const url = await printedUrl(child, /running at (http:\/\/\S+)/);
    const start = performance.now();
    const started = await api<ExportView>(url, 'POST', `/v1/segments/${SEGMENT}/exports`, {
      identifiers: ['email', 'phone'],
      traits: ['first_name', 'plan'],
    });
    let exportSeconds = Number.NaN;
    for (;;) {
      if (Number.isNaN(exportSeconds)) {
        const current = await api<ExportView>(url, 'GET', `/v1/exports/${started.exportId}`);
        if (current.status === 'FAILED') throw new Error(`the export failed: ${JSON.stringify(current)}`);
        if (current.status === 'SUCCEEDED') exportSeconds = (performance.now() - start) / 1000;
      }
      if (healthy.members >= options.expected) break;
      if (performance.now() - start > 600_000) {
        throw new Error(`only ${healthy.members} of ${options.expected} members arrived in 10 minutes`);
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    if (healthy.members !== options.expected || healthy.unverified > 0 || healthy.duplicates > 0) {
      throw new Error(
        `the healthy receiver got ${healthy.members} members (expected ${options.expected}), ` +
          `${healthy.unverified} unverified and ${healthy.duplicates} duplicate requests`,
      );
    }
    const first = healthy.firstAt ?? start;
    const last = healthy.lastAt ?? start;
    const deliverySeconds = (last - first) / 1000;
    return {
      scenario,
      members: healthy.members,
      requests: healthy.requests,
      exportSeconds,
      endToEndSeconds: (last - start) / 1000,
      deliverySeconds,
      membersPerSecond: healthy.members / deliverySeconds,
      failingRequests: failing.requests,
      peakRssMb: await peakRssMb(child.pid as number),
    };
  } catch (error) {
    throw new Error(
      `${error instanceof Error ? error.message : String(error)}\nthe runtime's last errors:\n${errors}`,
    );
  } finally {
    await stopChild(child);
    await rm(work, { recursive: true, force: true });
  }
}

async function api<T>(url: string, method: string, path: string, body?: unknown): Promise<T> {
  const response = await fetch(`${url}${path}`, {
    method,
    headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${text}`);
  return JSON.parse(text) as T;
}

// ---- the receivers --------------------------------------------------------------------------------

/**
 * A webhook receiver as a destination's team would write one: it reads the raw body, verifies
 * `Mosaic-Signature`, dedupes by `Idempotency-Key`, and counts the members of what it accepted.
 */
class Receiver {
  members = 0;
  requests = 0;
  unverified = 0;
  duplicates = 0;
  firstAt: number | undefined;
  lastAt: number | undefined;
  private keys = new Set<string>();

  private constructor(
    private readonly server: Server,
    readonly url: string,
  ) {}

  static async start(status: () => number, secret: string): Promise<Receiver> {
    let self: Receiver | undefined;
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const receiver = self as Receiver;
        const body = Buffer.concat(chunks).toString('utf8');
        const signature = req.headers['mosaic-signature'];
        receiver.requests++;
        const answer = status();
        if (answer === 200) {
          const verified = verifySignature(
            body,
            typeof signature === 'string' ? signature : undefined,
            secret,
            Date.now(),
          ).ok;
          const key = String(req.headers['idempotency-key']);
          if (!verified) receiver.unverified++;
          else if (receiver.keys.has(key)) receiver.duplicates++;
          else {
            receiver.keys.add(key);
            receiver.members += (JSON.parse(body) as { members: unknown[] }).members.length;
            const now = performance.now();
            receiver.firstAt ??= now;
            receiver.lastAt = now;
          }
        }
        res.writeHead(answer, { 'content-type': 'application/json' });
        res.end('{}');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    self = new Receiver(server, `http://127.0.0.1:${port}/hook`);
    return self;
  }

  reset(): void {
    this.members = 0;
    this.requests = 0;
    this.unverified = 0;
    this.duplicates = 0;
    this.firstAt = undefined;
    this.lastAt = undefined;
    this.keys = new Set();
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

// ---- the people -----------------------------------------------------------------------------------

interface Dataset {
  readonly dir: string;
  readonly expectedMembers: number;
  readonly cached: boolean;
  readonly seconds: number;
}

interface DatasetManifest {
  readonly version: string;
  readonly people: number;
  readonly expectedMembers: number;
  readonly seconds: number;
}

/**
 * The runtime's data directory after `people` identify calls, and the segment `everyone` (a plan trait
 * exists); cached, and made again when the people or the generator change.
 */
async function activationDataset(people: number, progress: (line: string) => void): Promise<Dataset> {
  const cache = join(root, 'node_modules', '.cache', 'mosaic-bench', VERSION);
  const manifestPath = join(cache, 'manifest.json');
  const existing = await readFile(manifestPath, 'utf8')
    .then((text) => JSON.parse(text) as DatasetManifest)
    .catch(() => undefined);
  if (existing?.version === VERSION && existing.people === people) {
    return {
      dir: join(cache, 'data'),
      expectedMembers: existing.expectedMembers,
      cached: true,
      seconds: existing.seconds,
    };
  }
  progress(`  making ${people.toLocaleString('en-US')} people through the runtime (once; cached)...`);
  const started = performance.now();
  await rm(cache, { recursive: true, force: true });
  const building = `${cache}.building`;
  await rm(building, { recursive: true, force: true });
  await mkdir(building, { recursive: true });
  const runtime = await startLocalRuntime({
    port: 0,
    dataDir: join(building, 'data'),
    logger: silentLogger,
    sources: [{ name: 'bench', keys: [{ sha256: hashWriteKey(WRITE_KEY), revoked: false }] }],
    adminKeys: [{ name: 'bench-admin', keyHashes: [hashKey(ADMIN_KEY)] }],
  });
  let expectedMembers = 0;
  try {
    const authorization = `Basic ${Buffer.from(`${WRITE_KEY}:`).toString('base64')}`;
    const perBatch = 500;
    for (let from = 0; from < people; from += perBatch) {
      // The stream refuses what the resolver cannot keep up with: hold back as a well-behaved SDK would.
      while (runtime.stats().resolverLag > 5_000) await new Promise((resolve) => setTimeout(resolve, 50));
      const batch = [];
      for (let i = from; i < Math.min(people, from + perBatch); i++) {
        const consent = consentOf(i);
        if (consent === true) expectedMembers++;
        batch.push(identify(i, consent));
      }
      const response = await fetch(`${runtime.url}/v1/batch`, {
        method: 'POST',
        headers: { authorization, 'content-type': 'application/json' },
        body: JSON.stringify({ batch }),
      });
      if (!response.ok)
        throw new Error(`the collector answered ${response.status}: ${await response.text()}`);
      if (from % 10_000 === 0) progress(`    ${from.toLocaleString('en-US')} sent`);
    }
    await runtime.flush();
    const created = await fetch(`${runtime.url}/v1/segments`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        id: SEGMENT,
        name: 'Everyone with a plan',
        definition: { trait: { name: 'plan', op: 'exists' } },
      }),
    });
    if (created.status !== 201) throw new Error(`segment: ${created.status} ${await created.text()}`);
  } finally {
    await runtime.close();
  }
  const seconds = (performance.now() - started) / 1000;
  const manifest: DatasetManifest = { version: VERSION, people, expectedMembers, seconds };
  await writeFile(join(building, 'manifest.json'), JSON.stringify(manifest, null, 2));
  await rename(building, cache);
  await stat(join(cache, 'data'));
  return { dir: join(cache, 'data'), expectedMembers, cached: false, seconds };
}

const PLANS = ['free', 'starter', 'pro', 'enterprise'];
const FIRST_NAMES = ['Ada', 'Grace', 'Alan', 'Edsger', 'Barbara', 'Donald', 'Frances', 'Ken'];

/** Person `i`'s identify, as analytics.js sends it after a sign-up. */
function identify(i: number, consent: boolean | undefined) {
  const id = String(i).padStart(6, '0');
  return {
    type: 'identify',
    messageId: `bench-activation-${id}`,
    timestamp: new Date(Date.UTC(2026, 10, 1) + i * 1000).toISOString(),
    anonymousId: `anon-${id}`,
    userId: `user-${id}`,
    traits: {
      email: `Person.${id}@Example.com`,
      phone: `(650) 5${id.slice(0, 2)}-${id.slice(2)}`,
      first_name: FIRST_NAMES[i % FIRST_NAMES.length],
      plan: PLANS[i % PLANS.length],
    },
    context: {
      library: { name: 'analytics.js', version: '2.11.1' },
      ...(consent === undefined ? {} : { consent: { categoryPreferences: { email_marketing: consent } } }),
    },
  };
}

if (process.argv[1] === import.meta.filename) {
  // For experiments: fewer people (another cached dataset) or rounds.
  const people = Number(process.env.MOSAIC_BENCH_ACTIVATION_PEOPLE ?? ACTIVATION_BENCH_DEFAULTS.people);
  const rounds = Number(process.env.MOSAIC_BENCH_ACTIVATION_ROUNDS ?? ACTIVATION_BENCH_DEFAULTS.rounds);
  const result = await benchActivation({ ...ACTIVATION_BENCH_DEFAULTS, people, rounds }, (line) =>
    process.stdout.write(`${line}\n`),
  );
  process.stdout.write(`${JSON.stringify({ ...result, runs: undefined }, null, 2)}\n`);
}
