import { hashWriteKey, WriteKeyRegistry } from '../../src/core/collector/write-keys';
import { CollectorLimits, DEFAULT_LIMITS } from '../../src/core/config/limits';
import { SourcesConfig } from '../../src/core/config/sources';
import type { JsonObject } from '../../src/core/events/stream-record';
import { ManualClock, type Sleep } from '../../src/ports/clock';
import type { EventStream, PutOutcome, StreamEntry } from '../../src/ports/event-stream';
import type { IngestMetrics } from '../../src/ports/ingest-metrics';
import type { QuarantinedMessage, QuarantineSink } from '../../src/ports/quarantine-sink';
import type { IngestDeps } from '../../src/use-cases/ingest';

/** The active write key of the `web` source. */
export const WRITE_KEY = 'wk_web_2026_active';
/** A second active key of the same source (rotation in progress). */
export const ROTATED_WRITE_KEY = 'wk_web_2025_rotating';
/** A key of the `web` source that was revoked. */
export const REVOKED_WRITE_KEY = 'wk_web_2024_revoked';
/** The only key of the `backend` source. */
export const BACKEND_WRITE_KEY = 'wk_backend_1';
export const SOURCE = 'web';

/** When the collector "receives" requests in tests. */
export const RECEIVED_AT = '2026-03-10T12:00:00.000Z';
export const RECEIVED_AT_MS = Date.parse(RECEIVED_AT);

export const TEST_SOURCES: SourcesConfig = SourcesConfig.parse([
  {
    name: SOURCE,
    keys: [
      { sha256: hashWriteKey(WRITE_KEY), label: 'current' },
      { sha256: hashWriteKey(ROTATED_WRITE_KEY), label: 'being rotated out' },
      { sha256: hashWriteKey(REVOKED_WRITE_KEY), label: 'leaked', revoked: true },
    ],
  },
  { name: 'backend', keys: [{ sha256: hashWriteKey(BACKEND_WRITE_KEY) }] },
]);

export const testRegistry = (): WriteKeyRegistry => new WriteKeyRegistry(TEST_SOURCES);

export const limitsWith = (overrides: Partial<CollectorLimits> = {}): CollectorLimits =>
  CollectorLimits.parse({ ...DEFAULT_LIMITS, ...overrides });

/** Deterministic ids: `gen-1`, `gen-2`, ... */
export function sequentialIds(prefix = 'gen-'): () => string {
  let n = 0;
  return () => `${prefix}${++n}`;
}

/** A sleep that resolves at once and remembers what it was asked to wait. */
export function instantSleep(): Sleep & { readonly waits: number[] } {
  const waits: number[] = [];
  const sleep = (ms: number) => {
    waits.push(ms);
    return Promise.resolve();
  };
  return Object.assign(sleep, { waits });
}

/** Decodes stream bytes strictly (invalid UTF-8 throws) and parses the JSON. */
export function decodeJson(data: Uint8Array): JsonObject {
  const text = new TextDecoder('utf-8', { fatal: true }).decode(data);
  return JSON.parse(text) as JsonObject;
}

/** One scripted answer of {@link ScriptedEventStream}: which entries fail, or the whole call throws. */
export type StreamAttempt =
  | { readonly fail: (entry: StreamEntry, index: number) => string | undefined }
  | { readonly throws: Error };

/**
 * An in-memory event stream that records every call and answers from a script (one entry per call;
 * the last one repeats). With no script every entry is written. `calls` holds the entries as given
 * (the caller may write over their bytes once put resolves); `written` holds copies.
 */
export class ScriptedEventStream implements EventStream {
  readonly calls: StreamEntry[][] = [];
  readonly written: StreamEntry[] = [];

  constructor(private readonly script: readonly StreamAttempt[] = []) {}

  async put(entries: readonly StreamEntry[]): Promise<PutOutcome> {
    this.calls.push([...entries]);
    const attempt = this.script[Math.min(this.calls.length - 1, this.script.length - 1)];
    if (attempt !== undefined && 'throws' in attempt) throw attempt.throws;
    const failed: Array<{ index: number; reason: string }> = [];
    entries.forEach((entry, index) => {
      const reason = attempt?.fail(entry, index);
      // A copy, as a stream keeps it: the caller may write over its entries' bytes once put resolves.
      if (reason === undefined)
        this.written.push({ partitionKey: entry.partitionKey, data: Uint8Array.from(entry.data) });
      else failed.push({ index, reason });
    });
    return { failed };
  }
}

/** An in-memory quarantine that records what it was given, or fails when told to. */
export class RecordingQuarantine implements QuarantineSink {
  readonly messages: QuarantinedMessage[] = [];
  failWith: Error | undefined;

  async put(messages: readonly QuarantinedMessage[]): Promise<void> {
    if (this.failWith !== undefined) throw this.failWith;
    this.messages.push(...messages);
  }
}

/** Counts what the use case reports. */
export class RecordingMetrics implements IngestMetrics {
  readonly acceptedCounts: Array<{ source: string; count: number }> = [];
  readonly rejectedCounts: Array<{ source: string; code: string; count: number }> = [];
  readonly retried: number[] = [];
  accepted(source: string, count: number): void {
    this.acceptedCounts.push({ source, count });
  }
  rejected(source: string, code: string, count: number): void {
    this.rejectedCounts.push({ source, code, count });
  }
  streamRetried(count: number): void {
    this.retried.push(count);
  }
}

/** Dependencies of `createIngest` made of in-memory twins; each can be replaced. */
export function fakeIngestDeps(overrides: Partial<IngestDeps> = {}): IngestDeps & {
  readonly stream: EventStream;
  readonly quarantine: QuarantineSink;
} {
  return {
    stream: new ScriptedEventStream(),
    quarantine: new RecordingQuarantine(),
    keys: testRegistry(),
    limits: DEFAULT_LIMITS,
    clock: new ManualClock(RECEIVED_AT_MS),
    newId: sequentialIds(),
    sleep: instantSleep(),
    metrics: new RecordingMetrics(),
    ...overrides,
  };
}
