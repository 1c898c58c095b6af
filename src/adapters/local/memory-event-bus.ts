import { appendFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { ServiceUnavailableError } from '../../core/errors';
import {
  BUS_SOURCE,
  type BusEnvelope,
  envelopeTime,
  type PreparedBusEvent,
  prepareBusEvents,
} from '../../core/events/bus-event';
import { compileEventPattern, type EventMatcher } from '../../core/events/event-pattern';
import { fullJitterDelay, type RetryPolicy } from '../../core/retry-policy';
import {
  type Clock,
  type IdGenerator,
  randomIds,
  realSleep,
  type Sleep,
  systemClock,
} from '../../ports/clock';
import type { BusEvent, BusTarget, EventBus } from '../../ports/event-bus';

export interface MemoryEventBusOptions {
  /**
   * The local data directory: every published event is appended to
   * `<dataDir>/bus/<busName>/events-YYYY-MM-DD.ndjson`, deliveries that failed for good to
   * `failed-deliveries.ndjson` beside it. Without it the bus keeps nothing on disk (a unit-test fake).
   */
  readonly dataDir?: string;
  /** Default `mosaic`. */
  readonly busName?: string;
  /** The envelope's `account`. Default `000000000000`. */
  readonly account?: string;
  /** The envelope's `region`. Default `local`. */
  readonly region?: string;
  /** Stamps events without a time, and names the log's day. Default the system clock. */
  readonly clock?: Clock;
  /** Envelope ids. Default random UUIDs. */
  readonly ids?: IdGenerator;
  /** How often a target is tried, and how far apart. Default 3 attempts, 100 ms to 2 s apart. */
  readonly retry?: RetryPolicy;
  /** Waits between delivery attempts. Default real time. */
  readonly sleep?: Sleep;
  /** A number in [0, 1) for the retry jitter. Default `Math.random`. */
  readonly random?: () => number;
  /** Called for every delivery that failed for good (it is also kept in `failedDeliveries()`). */
  readonly onDeliveryFailure?: (failure: FailedDelivery) => void;
  /** How many published events `publishedEvents()` keeps (the oldest go first). Default 10,000. */
  readonly keepPublished?: number;
}

/** A delivery that failed for good: the on-failure list (EventBridge's dead-letter queue). */
export interface FailedDelivery {
  readonly subscription: string;
  readonly event: BusEnvelope;
  readonly attempts: number;
  /** The last error, `name: message`. */
  readonly error: string;
  /** ISO-8601 time it was given up. */
  readonly failedAt: string;
}

export interface SubscribeOptions {
  /** Names the subscription in failures and stats. Default `subscription-<n>`. */
  readonly name?: string;
  /** This subscription's retries; default the bus's. */
  readonly retry?: RetryPolicy;
}

export interface BusSubscription {
  readonly name: string;
  /** Stops deliveries to the target, retries of earlier events included. */
  unsubscribe(): void;
}

/** Counters for live metrics and tests. */
export interface MemoryEventBusStats {
  readonly published: number;
  /** Deliveries of an event to a matching subscription, started. */
  readonly matched: number;
  readonly delivered: number;
  /** Attempts after a failed one. */
  readonly retries: number;
  /** Deliveries given up (in `failedDeliveries()`). */
  readonly failed: number;
  /** Deliveries started and not yet delivered or given up. */
  readonly inFlight: number;
}

interface Subscription {
  readonly name: string;
  readonly matches: EventMatcher;
  readonly target: BusTarget;
  readonly retry: RetryPolicy;
  active: boolean;
}

const DEFAULT_RETRY: RetryPolicy = { maxAttempts: 3, baseDelayMs: 100, maxDelayMs: 2000 };

/**
 * The local twin of an EventBridge bus: {@link EventBus} in-process, routing with EventBridge's
 * pattern matching (`src/core/events/event-pattern.ts`).
 *
 * `publish` checks the events as EventBridge does (size, detail type, detail) and rejects the whole
 * call, naming the event, if one cannot be published; it wraps each in EventBridge's envelope (`version,
 * id, detail-type, source: "mosaic", account, time, region, resources, detail`), appends them to the
 * day's NDJSON log (when there is a data directory) and resolves once that append is done — rejecting,
 * with nothing delivered, if it fails. Then, asynchronously, every subscription whose pattern matches
 * an event receives it: a target that rejects is tried again with jittered back-off, and after its last
 * attempt the delivery goes to the on-failure list (`failedDeliveries()`, `failed-deliveries.ndjson`).
 * As with EventBridge, delivery is at least once and in no particular order. `drain()` waits for every
 * delivery under way; `close()` refuses further events and drains.
 */
export class MemoryEventBus implements EventBus {
  /** Where the log is written, if anywhere. */
  readonly logDir: string | undefined;
  private readonly busName: string;
  private readonly account: string;
  private readonly region: string;
  private readonly clock: Clock;
  private readonly ids: IdGenerator;
  private readonly retry: RetryPolicy;
  private readonly sleep: Sleep;
  private readonly random: () => number;
  private readonly onDeliveryFailure: (failure: FailedDelivery) => void;
  private readonly keepPublished: number;
  private readonly subscriptions: Subscription[] = [];
  private readonly inFlight = new Set<Promise<void>>();
  private readonly failures: FailedDelivery[] = [];
  private readonly kept: BusEnvelope[] = [];
  /** The last log append; appends run one after another so lines never interleave. */
  private logTail: Promise<unknown> = Promise.resolve();
  private logDirReady = false;
  private closed = false;
  private subscriptionCount = 0;
  private counts = { published: 0, matched: 0, delivered: 0, retries: 0, failed: 0 };

  constructor(options: MemoryEventBusOptions = {}) {
    this.busName = options.busName ?? 'mosaic';
    this.logDir = options.dataDir === undefined ? undefined : join(options.dataDir, 'bus', this.busName);
    this.account = options.account ?? '000000000000';
    this.region = options.region ?? 'local';
    this.clock = options.clock ?? systemClock;
    this.ids = options.ids ?? randomIds;
    this.retry = options.retry ?? DEFAULT_RETRY;
    this.sleep = options.sleep ?? realSleep;
    this.random = options.random ?? Math.random;
    this.onDeliveryFailure = options.onDeliveryFailure ?? (() => {});
    this.keepPublished = options.keepPublished ?? 10_000;
  }

  /**
   * Delivers every event published from now on that matches `pattern` (an EventBridge event pattern
   * over the envelope, e.g. `{ "detail-type": ["Profile Merged"] }`) to `target`. Throws
   * `BadRequestError` naming what is wrong with an invalid pattern.
   */
  subscribe(pattern: unknown, target: BusTarget, options: SubscribeOptions = {}): BusSubscription {
    this.subscriptionCount++;
    const subscription: Subscription = {
      name: options.name ?? `subscription-${this.subscriptionCount}`,
      matches: compileEventPattern(pattern),
      target,
      retry: options.retry ?? this.retry,
      active: true,
    };
    this.subscriptions.push(subscription);
    return {
      name: subscription.name,
      unsubscribe: () => {
        subscription.active = false;
        const index = this.subscriptions.indexOf(subscription);
        if (index >= 0) this.subscriptions.splice(index, 1);
      },
    };
  }

  async publish(events: readonly BusEvent[]): Promise<void> {
    if (this.closed) throw new ServiceUnavailableError(`The event bus ${this.busName} is closed.`);
    const prepared = prepareBusEvents(events);
    if (prepared.length === 0) return;
    const envelopes = prepared.map((event) => this.envelope(event));
    await this.appendLog(envelopes);
    this.counts.published += envelopes.length;
    this.kept.push(...envelopes);
    if (this.kept.length > this.keepPublished) this.kept.splice(0, this.kept.length - this.keepPublished);
    for (const envelope of envelopes) {
      for (const subscription of this.subscriptions) {
        if (subscription.matches(envelope)) this.deliver(subscription, envelope);
      }
    }
  }

  /** The events published (the latest `keepPublished`), in the order published. */
  publishedEvents(): readonly BusEnvelope[] {
    return this.kept;
  }

  /** Deliveries that failed for good, in the order given up. */
  failedDeliveries(): readonly FailedDelivery[] {
    return this.failures;
  }

  /** Resolves once every delivery under way (retries included) was delivered or given up. */
  async drain(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
    await this.logTail;
  }

  /** Refuses further events, then drains. */
  async close(): Promise<void> {
    this.closed = true;
    await this.drain();
  }

  stats(): MemoryEventBusStats {
    return { ...this.counts, inFlight: this.inFlight.size };
  }

  private envelope(event: PreparedBusEvent): BusEnvelope {
    return {
      version: '0',
      id: this.ids(),
      'detail-type': event.detailType,
      source: BUS_SOURCE,
      account: this.account,
      time: envelopeTime(event.time ?? new Date(this.clock.now())),
      region: this.region,
      resources: event.resources,
      detail: JSON.parse(event.detailJson) as Record<string, unknown>,
    };
  }

  private deliver(subscription: Subscription, envelope: BusEnvelope): void {
    this.counts.matched++;
    const delivery = this.attempt(subscription, envelope);
    this.inFlight.add(delivery);
    const done = () => this.inFlight.delete(delivery);
    delivery.then(done, done);
  }

  private async attempt(subscription: Subscription, envelope: BusEnvelope): Promise<void> {
    // Never inside `publish`: targets run after the publisher has its answer.
    await new Promise<void>((resolve) => setImmediate(resolve));
    for (let attempt = 1; subscription.active; attempt++) {
      try {
        await subscription.target(envelope);
        this.counts.delivered++;
        return;
      } catch (error) {
        if (attempt >= subscription.retry.maxAttempts) {
          await this.giveUp(subscription, envelope, attempt, error);
          return;
        }
        this.counts.retries++;
        await this.sleep(fullJitterDelay(subscription.retry, attempt, this.random));
      }
    }
  }

  private async giveUp(
    subscription: Subscription,
    event: BusEnvelope,
    attempts: number,
    error: unknown,
  ): Promise<void> {
    const failure: FailedDelivery = {
      subscription: subscription.name,
      event,
      attempts,
      error: error instanceof Error ? `${error.name}: ${error.message}` : String(error),
      failedAt: new Date(this.clock.now()).toISOString(),
    };
    this.counts.failed++;
    this.failures.push(failure);
    this.onDeliveryFailure(failure);
    // Best effort: the failure is in memory and reported whatever happens to the file.
    await this.append('failed-deliveries.ndjson', `${JSON.stringify(failure)}\n`).catch(() => undefined);
  }

  /** Appends the envelopes to the day's log; the publish fails if this does. */
  private async appendLog(envelopes: readonly BusEnvelope[]): Promise<void> {
    const day = new Date(this.clock.now()).toISOString().slice(0, 10);
    await this.append(`events-${day}.ndjson`, envelopes.map((e) => `${JSON.stringify(e)}\n`).join(''));
  }

  private append(file: string, text: string): Promise<void> {
    const logDir = this.logDir;
    if (logDir === undefined) return Promise.resolve();
    const appended = this.logTail
      .catch(() => undefined)
      .then(async () => {
        if (!this.logDirReady) {
          await mkdir(logDir, { recursive: true });
          this.logDirReady = true;
        }
        try {
          await appendFile(join(logDir, file), text);
        } catch (error) {
          // The folder may have gone (a developer cleaning up): make it again next time.
          this.logDirReady = false;
          throw error;
        }
      });
    this.logTail = appended.catch(() => undefined);
    return appended;
  }
}
