import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BadRequestError, PayloadTooLargeError } from '../../src/core/errors';
import { type BusEnvelope, envelopeTime, MAX_BUS_EVENT_BYTES } from '../../src/core/events/bus-event';
import { PROFILE_MERGED, profileMergedEvent } from '../../src/core/events/bus-events';
import type { BusEvent, EventBus } from '../../src/ports/event-bus';

/** A bus that can refuse single entries of a request (EventBridge); the local bus has none. */
export interface BusEntryFaults {
  /** From now on the entries of events `select` picks are refused the first time they are offered. */
  refuseOnce(select: (detail: Readonly<Record<string, unknown>>) => boolean): void;
  /** From now on the entries of events `select` picks are always refused, until `repairBus`. */
  refuseAlways(select: (detail: Readonly<Record<string, unknown>>) => boolean): void;
  /** How many entries each request carried, in the order sent (refused requests included). */
  entriesPerRequest(): readonly number[];
}

/**
 * What an adapter supplies to run the {@link EventBus} contract: the bus, a way to see what it
 * accepted (as a rule matching everything from `mosaic` would receive it), and ways to make it fail.
 */
export interface EventBusHarness {
  readonly bus: EventBus;
  /** Every event the bus accepted, each once, in the order accepted. */
  accepted(): Promise<BusEnvelope[]>;
  /** From now on every publish fails, until {@link repairBus}. */
  breakBus(): Promise<void>;
  /** Undoes {@link breakBus} and any entry faults. */
  repairBus(): Promise<void>;
  readonly entryFaults?: BusEntryFaults;
  close(): Promise<void>;
}

export interface EventBusTraits {
  /** The bus's request limit on entries, where it has one that big publishes must be split by. */
  readonly entriesPerRequest?: number;
}

let counter = 0;

/** A small event with a unique `n` in its detail. */
export function busEvent(overrides: Partial<BusEvent> = {}): BusEvent {
  counter++;
  return { detailType: 'Test Happened', detail: { version: 1, n: counter }, ...overrides };
}

const nOf = (envelope: BusEnvelope) => envelope.detail.n;

/**
 * The contract every {@link EventBus} adapter keeps: once `publish` resolves, every event was accepted
 * exactly once, in EventBridge's envelope with `source: "mosaic"`, its detail type, detail, time and
 * resources; big publishes are split by the bus's limits; an entry refused is offered again alone;
 * `publish` rejects when the bus cannot take every event, and rejects a batch with an event no bus can
 * take (over 256 KiB, a detail that is not an object) before publishing any of it.
 */
export function describeEventBusContract(
  adapter: string,
  traits: EventBusTraits,
  createHarness: () => Promise<EventBusHarness>,
): void {
  describe(`EventBus contract: ${adapter}`, () => {
    let harness: EventBusHarness;

    beforeEach(async () => {
      harness = await createHarness();
    });

    afterEach(async () => {
      await harness.close();
    });

    it('publishes nothing, and does not fail, for an empty publish', async () => {
      await expect(harness.bus.publish([])).resolves.toBeUndefined();
      expect(await harness.accepted()).toEqual([]);
    });

    it('publishes each event once in the EventBridge envelope, source mosaic, detail as given', async () => {
      const merge = profileMergedEvent({
        id: 'ledger-1',
        at: '2026-11-22T16:05:12.345Z',
        source: 'web',
        messageId: 'm-1',
        identifier: { type: 'email', value: 'jane@example.com' },
        from: 'p-2',
        to: 'p-1',
        reason: 'merged',
      });
      const withResources = busEvent({
        detailType: 'Segment Membership Changed',
        detail: { version: 1, n: 'zoë 😀', nested: { list: [1, 'two', null, true] } },
        time: '2026-11-22T17:00:00+01:00',
        resources: ['arn:aws:dynamodb:eu-west-1:111122223333:table/profiles'],
      });

      await harness.bus.publish([merge, withResources]);

      const accepted = await harness.accepted();
      expect(accepted).toHaveLength(2);
      const [first, second] = accepted as [BusEnvelope, BusEnvelope];
      expect(first).toMatchObject({
        version: '0',
        source: 'mosaic',
        'detail-type': PROFILE_MERGED,
        time: '2026-11-22T16:05:12Z',
        resources: [],
        detail: merge.detail,
      });
      expect(second).toMatchObject({
        source: 'mosaic',
        'detail-type': 'Segment Membership Changed',
        time: '2026-11-22T16:00:00Z',
        resources: withResources.resources,
        detail: withResources.detail,
      });
      for (const envelope of accepted) {
        expect(Object.keys(envelope).sort()).toEqual(
          [
            'version',
            'id',
            'detail-type',
            'source',
            'account',
            'time',
            'region',
            'resources',
            'detail',
          ].sort(),
        );
        expect(envelope.id).toMatch(/\S/);
        expect(typeof envelope.account).toBe('string');
        expect(typeof envelope.region).toBe('string');
      }
      expect(first.id).not.toBe(second.id);
      expect(JSON.stringify(accepted)).not.toContain('jane@example.com');
    });

    it('stamps an event without a time with the time it was published', async () => {
      const before = envelopeTime(new Date(Date.now() - 1000));
      await harness.bus.publish([busEvent()]);
      const after = envelopeTime(new Date(Date.now() + 1000));

      const [envelope] = await harness.accepted();
      const time = envelope?.time ?? '';
      expect(time >= before && time <= after, `${time} is between ${before} and ${after}`).toBe(true);
    });

    it('publishes a big batch whole, each event once: 25 events, and 5 of 100 KiB (over 256 KiB)', async () => {
      const many = Array.from({ length: 25 }, () => busEvent());
      const large = Array.from({ length: 5 }, () => {
        const event = busEvent();
        return { ...event, detail: { ...event.detail, text: 'x'.repeat(100 * 1024) } };
      });

      await harness.bus.publish(many);
      await harness.bus.publish(large);

      const accepted = (await harness.accepted()).map(nOf);
      expect(accepted.sort()).toEqual([...many, ...large].map((e) => (e.detail as { n: number }).n).sort());
      if (traits.entriesPerRequest !== undefined && harness.entryFaults) {
        const sizes = harness.entryFaults.entriesPerRequest();
        expect(Math.max(...sizes)).toBeLessThanOrEqual(traits.entriesPerRequest);
        // 25 events need three requests of at most 10; 500 KiB more than one of 256 KiB.
        expect(sizes.length).toBeGreaterThanOrEqual(5);
      }
    });

    it('rejects a batch with an event over 256 KiB, naming it, and publishes none of the batch', async () => {
      const big = busEvent({ detailType: 'Too Big', detail: { text: 'x'.repeat(MAX_BUS_EVENT_BYTES) } });

      const publish = harness.bus.publish([busEvent(), big, busEvent()]);

      await expect(publish).rejects.toBeInstanceOf(PayloadTooLargeError);
      await expect(publish).rejects.toThrow(/Bus event 1 \(Too Big\)/);
      expect(await harness.accepted()).toEqual([]);
    });

    it('rejects a batch with a detail that is not a JSON object, and publishes none of it', async () => {
      await expect(harness.bus.publish([busEvent(), busEvent({ detail: ['a'] })])).rejects.toBeInstanceOf(
        BadRequestError,
      );
      expect(await harness.accepted()).toEqual([]);
    });

    it('rejects while the bus fails, and publishes the events once after it recovers', async () => {
      const before = busEvent();
      const events = [busEvent(), busEvent()];
      await harness.bus.publish([before]);
      await harness.breakBus();

      await expect(harness.bus.publish(events)).rejects.toThrow();
      await expect(harness.bus.publish(events)).rejects.toThrow();

      await harness.repairBus();
      await harness.bus.publish(events);
      expect((await harness.accepted()).map(nOf)).toEqual(
        [before, ...events].map((e) => (e.detail as { n: number }).n),
      );
    });

    if (traits.entriesPerRequest !== undefined) {
      it('offers an entry the bus refuses again alone, and publishes every event once', async () => {
        const faults = harness.entryFaults as BusEntryFaults;
        const events = Array.from({ length: 8 }, () => busEvent());
        const throttled = (events[3] as BusEvent).detail as { n: number };
        faults.refuseOnce((detail) => detail.n === throttled.n);

        await harness.bus.publish(events);

        expect(faults.entriesPerRequest()).toEqual([8, 1]);
        const accepted = (await harness.accepted()).map(nOf);
        expect(accepted.sort()).toEqual(events.map((e) => (e.detail as { n: number }).n).sort());
      });

      it('rejects when an entry is still refused after its retries, naming it, having offered only it again', async () => {
        const faults = harness.entryFaults as BusEntryFaults;
        const events = Array.from({ length: 4 }, () => busEvent());
        const refused = (events[2] as BusEvent).detail as { n: number };
        faults.refuseAlways((detail) => detail.n === refused.n);

        await expect(harness.bus.publish(events)).rejects.toThrow(
          /1 of 4 bus events .*event 2 \(Test Happened\)/,
        );

        const [first, ...retries] = faults.entriesPerRequest();
        expect(first).toBe(4);
        expect(retries.length).toBeGreaterThan(0);
        for (const retry of retries) expect(retry).toBe(1);
        expect((await harness.accepted()).map(nOf)).not.toContain(refused.n);
      });
    }
  });
}
