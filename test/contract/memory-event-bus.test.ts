import { mkdtemp, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MemoryEventBus } from '../../src/adapters/local/memory-event-bus';
import { BadRequestError } from '../../src/core/errors';
import type { BusEnvelope } from '../../src/core/events/bus-event';
import { ManualClock } from '../../src/ports/clock';
import { busEvent, describeEventBusContract, type EventBusHarness } from './event-bus.contract';

async function isDirectory(path: string): Promise<boolean> {
  return stat(path).then(
    (s) => s.isDirectory(),
    () => false,
  );
}

/** Every event in the bus's NDJSON logs, in the order written (file names sort by day). */
async function readLog(logDir: string): Promise<BusEnvelope[]> {
  if (!(await isDirectory(logDir))) return [];
  const files = (await readdir(logDir)).filter((name) => name.startsWith('events-')).sort();
  const events: BusEnvelope[] = [];
  for (const file of files) {
    const text = await readFile(join(logDir, file), 'utf8');
    for (const line of text.split('\n')) if (line !== '') events.push(JSON.parse(line) as BusEnvelope);
  }
  return events;
}

/** The bus over a fresh data directory; a broken bus is its `bus/` folder turned into a regular file. */
async function memoryHarness(): Promise<EventBusHarness> {
  const dataDir = await mkdtemp(join(tmpdir(), 'mosaic-bus-contract-'));
  const busDir = join(dataDir, 'bus');
  const bus = new MemoryEventBus({ dataDir });
  let broken = false;
  return {
    bus,
    accepted: async () => {
      const logged = await readLog(bus.logDir as string);
      // What a developer sees in the log is what the bus published.
      expect(logged).toEqual(bus.publishedEvents());
      return logged;
    },
    breakBus: async () => {
      if (await isDirectory(busDir)) await rename(busDir, `${busDir}-saved`);
      await writeFile(busDir, 'not a folder');
      broken = true;
    },
    repairBus: async () => {
      if (!broken) return;
      await rm(busDir);
      if (await isDirectory(`${busDir}-saved`)) await rename(`${busDir}-saved`, busDir);
      broken = false;
    },
    close: async () => {
      await bus.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

describeEventBusContract('MemoryEventBus', {}, memoryHarness);

describe('MemoryEventBus: subscriptions, delivery and the log', () => {
  const noSleep = async () => {};
  let dataDir: string;

  beforeEach(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'mosaic-bus-'));
  });

  afterEach(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  it('delivers each event to the subscriptions whose pattern matches it, after publish resolved', async () => {
    const bus = new MemoryEventBus({ sleep: noSleep });
    const merges: BusEnvelope[] = [];
    const vips: BusEnvelope[] = [];
    const everything: BusEnvelope[] = [];
    bus.subscribe({ 'detail-type': ['Profile Merged'] }, async (e) => {
      merges.push(e);
    });
    bus.subscribe({ detail: { vip: [true], score: [{ numeric: ['>=', 10] }] } }, async (e) => {
      vips.push(e);
    });
    bus.subscribe({ source: ['mosaic'] }, async (e) => {
      everything.push(e);
    });

    await bus.publish([
      busEvent({ detailType: 'Profile Merged' }),
      busEvent({ detail: { vip: true, score: 12 } }),
      busEvent({ detail: { vip: true, score: 3 } }),
    ]);
    expect(everything).toEqual([]);
    await bus.drain();

    expect(merges.map((e) => e['detail-type'])).toEqual(['Profile Merged']);
    expect(vips.map((e) => e.detail.score)).toEqual([12]);
    expect(everything).toHaveLength(3);
    expect(bus.stats()).toMatchObject({ published: 3, matched: 5, delivered: 5, failed: 0, inFlight: 0 });
  });

  it('does not wait for targets: a slow target does not hold up publish', async () => {
    const bus = new MemoryEventBus();
    let release: () => void = () => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    bus.subscribe({ source: ['mosaic'] }, () => held);

    await bus.publish([busEvent()]);
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect(bus.stats().inFlight).toBe(1);
    release();
    await bus.drain();
    expect(bus.stats()).toMatchObject({ delivered: 1, inFlight: 0 });
  });

  it('retries a failing target with jittered back-off, then puts the delivery on the on-failure list', async () => {
    const waits: number[] = [];
    const reported: string[] = [];
    const bus = new MemoryEventBus({
      dataDir,
      retry: { maxAttempts: 4, baseDelayMs: 100, maxDelayMs: 250 },
      sleep: async (ms) => {
        waits.push(ms);
      },
      random: () => 0.5,
      clock: new ManualClock(Date.UTC(2026, 10, 22, 16)),
      onDeliveryFailure: (failure) => reported.push(failure.subscription),
    });
    let calls = 0;
    bus.subscribe(
      { 'detail-type': ['Test Happened'] },
      async () => {
        calls++;
        throw new TypeError('webhook answered 500');
      },
      { name: 'webhook' },
    );
    let flakyCalls = 0;
    const flaky: number[] = [];
    bus.subscribe({ source: ['mosaic'] }, async (e) => {
      flakyCalls++;
      if (flakyCalls === 1) throw new Error('once');
      flaky.push(e.detail.n as number);
    });
    const event = busEvent();

    await bus.publish([event]);
    await bus.drain();

    expect(calls).toBe(4);
    expect(waits.sort((a, b) => a - b)).toEqual([50, 50, 100, 125]);
    expect(flaky).toEqual([(event.detail as { n: number }).n]);
    const [failure] = bus.failedDeliveries();
    expect(failure).toMatchObject({
      subscription: 'webhook',
      attempts: 4,
      error: 'TypeError: webhook answered 500',
      failedAt: '2026-11-22T16:00:00.000Z',
      event: { detail: event.detail },
    });
    expect(reported).toEqual(['webhook']);
    expect(bus.stats()).toMatchObject({ delivered: 1, retries: 4, failed: 1 });
    const file = await readFile(join(dataDir, 'bus', 'mosaic', 'failed-deliveries.ndjson'), 'utf8');
    expect(JSON.parse(file.trim())).toEqual(failure);
  });

  it('logs every event, matched or not, to the day file as NDJSON envelopes', async () => {
    const clock = new ManualClock(Date.UTC(2026, 10, 22, 23, 59, 59));
    const bus = new MemoryEventBus({ dataDir, clock, ids: () => 'id-1', account: '1', region: 'r' });
    await bus.publish([busEvent({ detail: { a: 1 } })]);
    clock.advance(1000);
    await bus.publish([busEvent({ detail: { a: 2 } }), busEvent({ detail: { a: 3 } })]);

    const dir = join(dataDir, 'bus', 'mosaic');
    expect((await readdir(dir)).sort()).toEqual(['events-2026-11-22.ndjson', 'events-2026-11-23.ndjson']);
    const day1 = (await readFile(join(dir, 'events-2026-11-22.ndjson'), 'utf8')).trim().split('\n');
    expect(day1.map((line) => JSON.parse(line))).toEqual([
      {
        version: '0',
        id: 'id-1',
        'detail-type': 'Test Happened',
        source: 'mosaic',
        account: '1',
        time: '2026-11-22T23:59:59Z',
        region: 'r',
        resources: [],
        detail: { a: 1 },
      },
    ]);
    expect((await readFile(join(dir, 'events-2026-11-23.ndjson'), 'utf8')).trim().split('\n')).toHaveLength(
      2,
    );
  });

  it('refuses an invalid pattern at subscribe, naming the problem', () => {
    const bus = new MemoryEventBus();
    expect(() => bus.subscribe({ detail: { n: [{ numeric: ['>', 'x'] }] } }, async () => {})).toThrow(
      BadRequestError,
    );
  });

  it('stops delivering to a subscription once unsubscribed', async () => {
    const bus = new MemoryEventBus({ sleep: noSleep });
    const seen: unknown[] = [];
    const subscription = bus.subscribe({ source: ['mosaic'] }, async (e) => {
      seen.push(e.detail.n);
    });
    await bus.publish([busEvent()]);
    await bus.drain();
    subscription.unsubscribe();
    await bus.publish([busEvent()]);
    await bus.drain();
    expect(seen).toHaveLength(1);
  });

  it('close waits for deliveries under way and refuses events after it', async () => {
    const bus = new MemoryEventBus({ sleep: noSleep });
    let delivered = 0;
    bus.subscribe({ source: ['mosaic'] }, async () => {
      await new Promise((resolve) => setTimeout(resolve, 10));
      delivered++;
    });
    await bus.publish([busEvent(), busEvent()]);

    await bus.close();

    expect(delivered).toBe(2);
    await expect(bus.publish([busEvent()])).rejects.toThrow(/closed/);
  });
});
