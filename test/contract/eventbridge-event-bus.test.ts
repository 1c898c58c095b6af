import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EventBridgeEventBus } from '../../src/adapters/aws/eventbridge-event-bus';
import { ServiceUnavailableError } from '../../src/core/errors';
import { busEvent, describeEventBusContract, type EventBusHarness } from './event-bus.contract';
import { EVENTBRIDGE_LIMITS, EventBridgeEmulator, eventBridgeUnavailable } from './eventbridge-emulator';

const BUS = 'mosaic-events';
const noSleep = async () => {};

/** The bus over an emulated EventBridge; every test also checks no call broke an EventBridge limit. */
async function eventBridgeHarness(): Promise<EventBusHarness> {
  const eventBridge = new EventBridgeEmulator({ eventBusName: BUS });
  return {
    bus: new EventBridgeEventBus(eventBridge.client, BUS, { sleep: noSleep }),
    accepted: async () => [...eventBridge.acceptedEvents()],
    breakBus: async () => eventBridge.failCalls(() => eventBridgeUnavailable()),
    repairBus: async () => {
      eventBridge.failCalls(undefined);
      eventBridge.failEntries(undefined);
    },
    entryFaults: {
      refuseOnce: (select) =>
        eventBridge.failEntries((entry) =>
          entry.attempt === 1 && select(entry.detail) ? 'ThrottlingException' : undefined,
        ),
      refuseAlways: (select) =>
        eventBridge.failEntries((entry) => (select(entry.detail) ? 'InternalFailure' : undefined)),
      entriesPerRequest: () => eventBridge.calls.map((call) => call.records),
    },
    close: async () => {
      eventBridge.restore();
      expect(eventBridge.limitViolations).toEqual([]);
    },
  };
}

describeEventBusContract(
  'EventBridgeEventBus (emulated EventBridge)',
  { entriesPerRequest: EVENTBRIDGE_LIMITS.entriesPerCall },
  eventBridgeHarness,
);

describe('EventBridgeEventBus: PutEvents calls', () => {
  let eventBridge: EventBridgeEmulator;

  beforeEach(() => {
    eventBridge = new EventBridgeEmulator({ eventBusName: BUS });
  });

  afterEach(() => {
    eventBridge.restore();
  });

  it('splits by 10 entries and 256 KiB a call', async () => {
    const bus = new EventBridgeEventBus(eventBridge.client, BUS);
    await bus.publish(Array.from({ length: 23 }, () => busEvent()));
    expect(eventBridge.calls.map((c) => c.records)).toEqual([10, 10, 3]);

    await bus.publish(
      Array.from({ length: 4 }, () => busEvent({ detail: { text: 'x'.repeat(100 * 1024) } })),
    );
    expect(eventBridge.calls.slice(3).map((c) => c.records)).toEqual([2, 2]);
    for (const call of eventBridge.calls)
      expect(call.bytes).toBeLessThanOrEqual(EVENTBRIDGE_LIMITS.bytesPerCall);
    expect(eventBridge.limitViolations).toEqual([]);
  });

  it('waits a jittered, growing back-off between retries, within the policy', async () => {
    const waits: number[] = [];
    const bus = new EventBridgeEventBus(eventBridge.client, BUS, {
      retry: { maxAttempts: 3, baseDelayMs: 100, maxDelayMs: 1000 },
      sleep: async (ms) => {
        waits.push(ms);
      },
      random: () => 0.5,
    });
    eventBridge.failEntries(() => 'ThrottlingException');

    await expect(bus.publish([busEvent()])).rejects.toBeInstanceOf(ServiceUnavailableError);

    expect(eventBridge.calls).toHaveLength(3);
    expect(waits).toEqual([50, 100]);
  });

  it('does not retry an entry refused for a reason no retry fixes', async () => {
    const bus = new EventBridgeEventBus(eventBridge.client, BUS, { sleep: noSleep });
    eventBridge.failEntries(() => 'MalformedDetail');

    await expect(bus.publish([busEvent({ detailType: 'Odd' })])).rejects.toThrow(
      /event 0 \(Odd\): MalformedDetail/,
    );
    expect(eventBridge.calls).toHaveLength(1);
  });

  it('sends Time only for events that have one, and publishes to the named bus only', async () => {
    const other = new EventBridgeEventBus(eventBridge.client, 'no-such-bus');
    await expect(other.publish([busEvent()])).rejects.toThrow(/no-such-bus/);

    const bus = new EventBridgeEventBus(eventBridge.client, BUS);
    await bus.publish([busEvent(), busEvent({ time: '2026-11-22T16:05:12.345Z' })]);
    expect(eventBridge.calls.at(-1)?.bytes).toBeGreaterThan(0);
    expect(eventBridge.acceptedEvents().at(-1)?.time).toBe('2026-11-22T16:05:12Z');
  });
});
