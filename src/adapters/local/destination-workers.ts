import type { Destination, DestinationsConfig } from '../../core/activation/destination-config';
import { destinationRulePattern } from '../../core/activation/routing';
import type { BusEnvelope } from '../../core/events/bus-event';
import { DEFAULT_IDENTITY_CONFIG, type IdentityConfig } from '../../core/identity/identity-config';
import { fullJitterDelay, type RetryPolicy } from '../../core/retry-policy';
import type { AudienceReader } from '../../ports/audience-reader';
import { type Clock, realSleep, type Sleep, systemClock } from '../../ports/clock';
import type { DestinationSender, SecretResolver } from '../../ports/destination-sender';
import type { IdentityStore } from '../../ports/identity-store';
import { type Logger, silentLogger } from '../../ports/logger';
import type { SegmentStore } from '../../ports/segment-store';
import { type DeliverAudienceResult, deliverAudience } from '../../use-cases/deliver-audience';
import { createPacer, type Pacer } from '../../use-cases/send-batch';
import { WebhookSender } from '../http/webhook-sender';
import { MapSecretResolver, secretsFromEnv } from './destination-secrets';
import { DuckDbAudienceReader } from './duckdb-audience-reader';
import { FileDeadLetterSink, FileDeliveryLedger } from './file-delivery-ledger';
import { FileDropSender } from './file-drop-sender';
import type { BusSubscription, MemoryEventBus } from './memory-event-bus';

/** A delivery of one event that threw (a dependency failed) this many times is given up. */
const EVENT_RETRY: RetryPolicy = { maxAttempts: 3, baseDelayMs: 1_000, maxDelayMs: 30_000 };

export interface LocalDestinationsOptions {
  readonly bus: Pick<MemoryEventBus, 'subscribe'>;
  /** The identity store: members' profiles, for consent. */
  readonly store: Pick<IdentityStore, 'getProfiles'>;
  /** The segment store: each export's identifier and trait columns. */
  readonly segments: Pick<SegmentStore, 'getExport'>;
  /** Ledgers, dead letters and file drops go under `<dataDir>/destinations/<name>/`. */
  readonly dataDir: string;
  /** Parsed destinations (`parseDestinationsConfig`), or just the list. */
  readonly destinations: DestinationsConfig | readonly Destination[];
  /** Secret name → value; default `MOSAIC_DESTINATION_SECRETS` from `env`. Never logged. */
  readonly secrets?: Readonly<Record<string, string>> | SecretResolver;
  /** Default `process.env` (read once, here). */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Identifier types (the normaliser of each hashed identifier). Default the default configuration. */
  readonly identity?: Pick<IdentityConfig, 'types' | 'defaultPhoneCountry'>;
  /** Reads export members; default a DuckDB reader opened here (and closed by `close`). */
  readonly reader?: AudienceReader;
  readonly logger?: Logger;
  readonly clock?: Clock;
  /** Back-off and pacing waits; default real time. */
  readonly sleep?: Sleep;
  readonly random?: () => number;
  /** For webhooks; default the global `fetch`. */
  readonly fetch?: typeof fetch;
  /** Retries of a delivery that threw (not of batches: those follow the destination's policy). */
  readonly eventRetry?: RetryPolicy;
}

/** What one destination's worker has done. */
export interface DestinationWorkerStats {
  /** Events waiting for a slot. */
  readonly queued: number;
  /** Deliveries running now (at most `reservedConcurrency`). */
  readonly running: number;
  /** Deliveries finished (routed or not). */
  readonly completed: number;
  /** Events given up after their retries (the delivery kept throwing). */
  readonly failedEvents: number;
}

export interface LocalDestinations {
  /** The destinations with a worker (enabled webhook and file-drop destinations). */
  readonly names: readonly string[];
  stats(): Readonly<Record<string, DestinationWorkerStats>>;
  /** The results of a destination's finished deliveries, oldest first (the latest 1,000). */
  results(destination: string): readonly DeliverAudienceResult[];
  /**
   * A new sender for a destination (any of them, enabled or not) with the workers' secrets, clock and
   * `fetch` — for `mosaic destinations test`; `undefined` for kinds delivered in AWS only.
   */
  senderFor(destination: Destination): DestinationSender | undefined;
  /** Resolves once every queued and running delivery (and pending retry) has finished. */
  drain(): Promise<void>;
  /** Stops taking events, drains, and closes the reader it opened. */
  close(): Promise<void>;
}

/**
 * Activation on one machine (issue #5): per enabled destination, a subscription to the bus with the
 * destination's own rule pattern (`destinationRulePattern`, as its EventBridge rule in AWS) and an
 * in-process queue with its own concurrency (`reservedConcurrency`, as its SQS-fed function's reserved
 * concurrency). The bus target only enqueues, as EventBridge → SQS does, so a destination that is down
 * — its batches waiting out back-off — holds only its own slots and delays no other. Deliveries of the
 * same export to one destination run one after another (as an SQS FIFO message group would), so a
 * duplicate event finds the first one's batches in the ledger instead of racing it.
 *
 * SQS and Lambda destinations need AWS: they get no worker here (a warning says so).
 */
export async function startLocalDestinations(options: LocalDestinationsOptions): Promise<LocalDestinations> {
  const logger = options.logger ?? silentLogger;
  const clock = options.clock ?? systemClock;
  const sleep = options.sleep ?? realSleep;
  const random = options.random ?? Math.random;
  const list =
    'destinations' in options.destinations ? options.destinations.destinations : options.destinations;
  const defaultPhoneCountry =
    options.identity?.defaultPhoneCountry ??
    ('defaultPhoneCountry' in options.destinations ? options.destinations.defaultPhoneCountry : undefined);
  const secrets: SecretResolver =
    options.secrets !== undefined && typeof (options.secrets as SecretResolver).resolve === 'function'
      ? (options.secrets as SecretResolver)
      : new MapSecretResolver(
          (options.secrets as Readonly<Record<string, string>> | undefined) ??
            secretsFromEnv(options.env ?? process.env),
        );
  const ownReader = options.reader === undefined ? await DuckDbAudienceReader.open() : undefined;
  const reader = options.reader ?? (ownReader as AudienceReader);
  const ledger = new FileDeliveryLedger(options.dataDir);
  const deadLetters = new FileDeadLetterSink(options.dataDir);
  const identifierTypes = (options.identity ?? DEFAULT_IDENTITY_CONFIG).types;

  const workers = new Map<string, DestinationWorker>();
  const subscriptions: BusSubscription[] = [];
  for (const destination of list) {
    if (!destination.enabled) continue;
    const sender = senderOf(destination, options, secrets, clock);
    if (sender === undefined) {
      logger.warn('this kind of destination is delivered in AWS only; no local worker', {
        destination: destination.name,
        kind: destination.kind,
      });
      continue;
    }
    await ledger.open(destination.name);
    const pacer: Pacer | undefined =
      destination.kind === 'webhook' ? createPacer(destination.rateLimitPerSecond, clock, sleep) : undefined;
    const worker = new DestinationWorker({
      name: destination.name,
      concurrency: destination.reservedConcurrency,
      retry: options.eventRetry ?? EVENT_RETRY,
      sleep,
      random,
      logger,
      run: (event) =>
        deliverAudience(
          {
            exports: options.segments,
            reader,
            profiles: options.store,
            ledger,
            deadLetters,
            sender,
            clock,
            sleep,
            random,
            logger,
            identifierTypes,
            ...(defaultPhoneCountry === undefined ? {} : { hashOptions: { defaultPhoneCountry } }),
            ...(pacer === undefined ? {} : { pacer }),
          },
          { event, destination },
        ),
    });
    workers.set(destination.name, worker);
    subscriptions.push(
      options.bus.subscribe(destinationRulePattern(destination), async (event) => worker.enqueue(event), {
        name: `destination:${destination.name}`,
      }),
    );
  }

  const drain = async () => {
    for (;;) {
      const busy = [...workers.values()].filter((w) => !w.idle());
      if (busy.length === 0) return;
      await Promise.all(busy.map((w) => w.idleOnce()));
    }
  };
  let closing: Promise<void> | undefined;
  return {
    names: [...workers.keys()],
    stats: () => Object.fromEntries([...workers].map(([name, w]) => [name, w.stats()])),
    results: (destination) => workers.get(destination)?.results ?? [],
    senderFor: (destination) => senderOf(destination, options, secrets, clock),
    drain,
    close() {
      closing ??= (async () => {
        for (const subscription of subscriptions) subscription.unsubscribe();
        await drain();
        ownReader?.close();
      })();
      return closing;
    },
  };
}

function senderOf(
  destination: Destination,
  options: LocalDestinationsOptions,
  secrets: SecretResolver,
  clock: Clock,
): DestinationSender | undefined {
  switch (destination.kind) {
    case 'webhook':
      return new WebhookSender({
        destination,
        secrets,
        clock,
        ...(options.fetch === undefined ? {} : { fetch: options.fetch }),
      });
    case 's3':
      return new FileDropSender({ destination, dataDir: options.dataDir });
    default:
      return undefined;
  }
}

interface WorkerOptions {
  readonly name: string;
  readonly concurrency: number;
  readonly retry: RetryPolicy;
  readonly sleep: Sleep;
  readonly random: () => number;
  readonly logger: Logger;
  readonly run: (event: BusEnvelope) => Promise<DeliverAudienceResult>;
}

interface Job {
  readonly event: BusEnvelope;
  readonly attempt: number;
}

const KEEP_RESULTS = 1_000;

/**
 * One destination's queue (SQS's twin): FIFO, at most `concurrency` deliveries at once, jobs of the same
 * export one after another. A delivery that throws goes back on the queue after a back-off (its slot
 * freed meanwhile), up to the retry policy's attempts; then it is logged and counted as failed.
 */
class DestinationWorker {
  readonly results: DeliverAudienceResult[] = [];
  private readonly queue: Job[] = [];
  private readonly runningGroups = new Set<string>();
  private running = 0;
  private delayed = 0;
  private completed = 0;
  private failedEvents = 0;
  private waiters: (() => void)[] = [];

  constructor(private readonly options: WorkerOptions) {}

  enqueue(event: BusEnvelope, attempt = 1): void {
    this.queue.push({ event, attempt });
    this.pump();
  }

  idle(): boolean {
    return this.queue.length === 0 && this.running === 0 && this.delayed === 0;
  }

  /** Resolves the next time the worker is idle (at once if it is). */
  idleOnce(): Promise<void> {
    if (this.idle()) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  stats(): DestinationWorkerStats {
    return {
      queued: this.queue.length + this.delayed,
      running: this.running,
      completed: this.completed,
      failedEvents: this.failedEvents,
    };
  }

  private pump(): void {
    while (this.running < this.options.concurrency) {
      const index = this.queue.findIndex((job) => !this.runningGroups.has(groupOf(job.event)));
      if (index < 0) break;
      const [job] = this.queue.splice(index, 1) as [Job];
      this.start(job);
    }
    if (this.idle()) {
      const waiters = this.waiters;
      this.waiters = [];
      for (const resolve of waiters) resolve();
    }
  }

  private start(job: Job): void {
    const group = groupOf(job.event);
    this.running++;
    this.runningGroups.add(group);
    void this.options
      .run(job.event)
      .then(
        (result) => {
          this.completed++;
          this.results.push(result);
          if (this.results.length > KEEP_RESULTS) this.results.shift();
        },
        (error: unknown) => this.failed(job, error),
      )
      .finally(() => {
        this.running--;
        this.runningGroups.delete(group);
        this.pump();
      });
  }

  private failed(job: Job, error: unknown): void {
    const { retry, logger, name } = this.options;
    const reason = error instanceof Error ? error.name : 'unknown';
    const retryable = !(error instanceof Error && (error as { retryable?: unknown }).retryable === false);
    if (!retryable || job.attempt >= retry.maxAttempts) {
      this.failedEvents++;
      logger.error('a delivery failed for good', {
        destination: name,
        eventId: job.event.id,
        attempts: job.attempt,
        error: reason,
      });
      return;
    }
    const delayMs = fullJitterDelay(retry, job.attempt, this.options.random);
    logger.warn('a delivery failed; it will be retried', {
      destination: name,
      eventId: job.event.id,
      attempt: job.attempt,
      error: reason,
      delayMs,
    });
    this.delayed++;
    void this.options.sleep(delayMs).then(() => {
      this.delayed--;
      this.enqueue(job.event, job.attempt + 1);
    });
  }
}

/** Deliveries of the same export (or event) run one at a time. */
function groupOf(event: BusEnvelope): string {
  const exportId = (event.detail as { exportId?: unknown }).exportId;
  return typeof exportId === 'string' ? `export:${exportId}` : `event:${event.id}`;
}
