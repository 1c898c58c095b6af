import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { QUARANTINE_COLUMNS } from '../../src/core/lake/tables';
import type { QuarantinedMessage, QuarantineSink } from '../../src/ports/quarantine-sink';
import { quarantinedMessage } from '../support/quarantined-messages';

/** One row as the store holds it, read back the way the lake reads it. */
export interface StoredQuarantineRow {
  /** The stored line, parsed as JSON. */
  readonly row: Readonly<Record<string, unknown>>;
  /** UTF-8 bytes of the stored line, its newline included. */
  readonly lineBytes: number;
  /** The `dt=/hour=` partition the row was stored in; `undefined` where the adapter does not choose it. */
  readonly partition: { readonly dt: string; readonly hour: string } | undefined;
}

/** What an adapter's store does, as far as the contract depends on it. */
export interface QuarantineStoreTraits {
  /**
   * The adapter files each row under the partition of its `receivedAt` (the local lake). Where the
   * store partitions by its own clock instead (Firehose by arrival time), this is false.
   */
  readonly partitionsByReceivedAt: boolean;
  /** The longest line the store takes, in bytes (Firehose: 1,000 KiB a record); `undefined` if any. */
  readonly maxLineBytes: number | undefined;
}

/**
 * What an adapter supplies to run the {@link QuarantineSink} contract: the sink, a way to read back
 * what it stored, and ways to make the store fail.
 */
export interface QuarantineSinkHarness {
  readonly sink: QuarantineSink;
  /** Every row the store holds, each line once, in no particular order. */
  readRows(): Promise<StoredQuarantineRow[]>;
  /** From now on every write to the store fails, until {@link repairStore}. */
  breakStore(): Promise<void>;
  /**
   * From now on the store refuses the rows of messages received in the given UTC hour
   * (`YYYY-MM-DDTHH`), and takes the others, until {@link repairStore}.
   */
  refuseHour(hour: string): Promise<void>;
  /** Undoes {@link breakStore} and {@link refuseHour}; keeps what was stored. */
  repairStore(): Promise<void>;
  close(): Promise<void>;
}

const COLUMN_NAMES = QUARANTINE_COLUMNS.map((column) => column.name).sort();

const message = quarantinedMessage;

/** The row the quarantine table must hold for a message: its columns, spelled out. */
function expectedRow(m: QuarantinedMessage): Record<string, unknown> {
  return {
    source: m.source,
    received_at: m.receivedAt,
    code: m.code,
    reason: m.reason,
    message_id: m.messageId ?? null,
    index: m.index,
    raw: m.raw,
    route: m.route,
    batch: m.batch ?? null,
  };
}

function byIndex(a: StoredQuarantineRow, b: StoredQuarantineRow): number {
  return Number(a.row.index) - Number(b.row.index);
}

function keyOf(row: Readonly<Record<string, unknown>>): string {
  return `${String(row.source)}/${String(row.index)}`;
}

/**
 * 500 KiB of JSON text (a message as large as a request may be) whose content is quotes and
 * backslashes, escaped, with a newline, a control character and non-ASCII characters: each of its
 * characters takes two bytes in a JSON line, so its row is just over 1,000 KiB.
 */
export function escapeHeavyRaw(bytes = 500 * 1024): string {
  const envelope = (html: string) => JSON.stringify({ event: 'Pasted', properties: { html } });
  const sprinkle = '\n\u0001é😀';
  const fixed = Buffer.byteLength(envelope(sprinkle));
  return envelope(`${'"\\'.repeat(Math.floor((bytes - fixed) / 4))}${sprinkle}`);
}

/** ≈500 KB of JSON text without anything a JSON line escapes: its row is about as large as it is. */
function plainRaw(chars: number): string {
  const head = '{"type":"track","event":"Big","properties":{"text":"';
  const tail = '"}}';
  return `${head}${'lorem ipsum '.repeat(Math.ceil(chars / 12)).slice(0, chars - head.length - tail.length)}${tail}`;
}

/**
 * The contract every {@link QuarantineSink} adapter keeps: each message put is durably readable once
 * `put` resolves, as one row with exactly the quarantine table's columns (in the partition of its
 * `receivedAt` where the adapter partitions); `put` rejects whenever it could not store every row;
 * a raw text too large for the store is cut to fit with the reason saying so, never lost.
 */
export function describeQuarantineSinkContract(
  adapter: string,
  traits: QuarantineStoreTraits,
  createHarness: () => Promise<QuarantineSinkHarness>,
): void {
  describe(`QuarantineSink contract: ${adapter}`, () => {
    let harness: QuarantineSinkHarness;

    beforeEach(async () => {
      harness = await createHarness();
    });

    afterEach(async () => {
      await harness.close();
    });

    it('stores nothing, and does not fail, for an empty put', async () => {
      await expect(harness.sink.put([])).resolves.toBeUndefined();
      expect(await harness.readRows()).toEqual([]);
    });

    it('stores each message as one row with exactly the quarantine columns, message_id null when absent', async () => {
      const { messageId: _omitted, ...withoutId } = message();
      const messages: QuarantinedMessage[] = [
        message(),
        { ...withoutId, index: 1, code: 'message_too_large', reason: 'message is larger than 32 KB' },
        message({ messageId: undefined, index: 2, source: 'ios' }),
        message({
          index: 2499,
          source: 'backend',
          messageId: 'ключ-🔑',
          reason: 'properties.price: expected number, got "zwölf €"',
          raw: '{"event":"Zoë 😀","text":"line1\\nline2 \\"quoted\\" \\\\ tab\\t \u2028 end"}',
        }),
        message({ index: 3, raw: '{"type":"track",' }),
      ];

      await harness.sink.put(messages);

      const stored = (await harness.readRows()).sort(byIndex);
      expect(stored.map((s) => s.row)).toStrictEqual(
        [...messages].sort((a, b) => a.index - b.index).map(expectedRow),
      );
      for (const { row } of stored) expect(Object.keys(row).sort()).toEqual(COLUMN_NAMES);
    });

    if (traits.partitionsByReceivedAt) {
      it('stores each row in the partition of the UTC hour of its receivedAt', async () => {
        const times = {
          '2026-11-22T16:05:12.345Z': { dt: '2026-11-22', hour: '16' },
          '2026-11-22T17:00:00.000Z': { dt: '2026-11-22', hour: '17' },
          '2026-12-31T23:59:59.999Z': { dt: '2026-12-31', hour: '23' },
          '2027-01-01T00:00:00.000Z': { dt: '2027-01-01', hour: '00' },
        } as const;
        const messages = Object.keys(times).map((receivedAt, index) => message({ receivedAt, index }));

        await harness.sink.put(messages);

        const stored = await harness.readRows();
        expect(stored).toHaveLength(messages.length);
        for (const { row, partition } of stored) {
          expect(partition).toEqual(times[row.received_at as keyof typeof times]);
        }
      });
    }

    it('keeps every row of a put larger than one store call and of concurrent puts, each exactly once', async () => {
      const bulk = Array.from({ length: 1234 }, (_, index) => message({ source: 'bulk', index }));
      const concurrent = ['a', 'b', 'c'].map((source) =>
        Array.from({ length: 100 }, (_, index) =>
          message({ source, index, messageId: `${source}-${index}` }),
        ),
      );

      await harness.sink.put(bulk);
      await Promise.all(concurrent.map((messages) => harness.sink.put(messages)));

      const stored = (await harness.readRows()).map((s) => keyOf(s.row)).sort();
      const sent = [...bulk, ...concurrent.flat()].map((m) => keyOf(expectedRow(m))).sort();
      expect(stored).toEqual(sent);
    });

    it('stores a put of large rows totalling more than one store call takes (6 MB) completely', async () => {
      // Ten messages of 600 KiB: each row fits any store; together they exceed Firehose's 4 MiB a call.
      const messages = Array.from({ length: 10 }, (_, index) =>
        message({ index, raw: plainRaw(600 * 1024 - index) }),
      );

      await harness.sink.put(messages);

      const stored = (await harness.readRows()).sort(byIndex);
      expect(stored.map((s) => s.row)).toStrictEqual(messages.map(expectedRow));
    });

    it('keeps a 500 KB raw text whole when its row fits the store', async () => {
      const raw = plainRaw(500 * 1024);
      await harness.sink.put([message({ raw })]);

      const [stored, ...more] = await harness.readRows();
      expect(more).toEqual([]);
      expect(stored?.row).toStrictEqual(expectedRow(message({ raw })));
    });

    it('keeps an escape-heavy 500 KB raw text whole where the store takes its row, else cuts it to fit and says so', async () => {
      const raw = escapeHeavyRaw();
      const original = message({ raw, index: 7, messageId: 'huge' });
      // The premise: at most 500 KiB of text, whose row is over 1,000 KiB.
      expect(Buffer.byteLength(raw)).toBeGreaterThan(499 * 1024);
      expect(Buffer.byteLength(raw)).toBeLessThanOrEqual(500 * 1024);
      expect(Buffer.byteLength(`${JSON.stringify(expectedRow(original))}\n`)).toBeGreaterThan(1000 * 1024);

      await harness.sink.put([original]);

      const [stored, ...more] = await harness.readRows();
      expect(more).toEqual([]);
      if (!stored) throw new Error('the row was not stored');
      const { raw: keptRaw, reason, batch, ...columns } = stored.row;
      const { raw: _raw, reason: _reason, batch: _batch, ...expectedColumns } = expectedRow(original);
      expect(columns).toStrictEqual(expectedColumns);
      expect(original.batch).toBeDefined();
      if (traits.maxLineBytes === undefined) {
        expect(keptRaw).toBe(raw);
        expect(reason).toBe(original.reason);
        expect(batch).toBe(original.batch);
      } else {
        expect(stored.lineBytes).toBeLessThanOrEqual(traits.maxLineBytes);
        // The batch's fields go first (every row of the batch has them), and the reason says so.
        expect(batch).toBeNull();
        expect(reason).toMatch(/batch fields not kept/);
        // Cut, not mangled: the start of the text as received, as much as reasonably fits.
        expect(typeof keptRaw).toBe('string');
        expect(raw.startsWith(keptRaw as string)).toBe(true);
        expect(stored.lineBytes).toBeGreaterThan(traits.maxLineBytes / 2);
        expect(reason).toMatch(/cut/i);
        expect(String(reason).startsWith(original.reason)).toBe(true);
      }
    });

    it('rejects a put while the store fails, and stores its rows once put again after it recovers', async () => {
      // A first put succeeds, so the failure also hits a store the adapter has written to before.
      const before = [message({ index: 0, source: 'before' })];
      const messages = [message({ index: 0 }), message({ index: 1, messageId: 'm-2' })];
      await harness.sink.put(before);
      await harness.breakStore();

      await expect(harness.sink.put(messages)).rejects.toThrow();

      expect((await harness.readRows()).map((s) => s.row)).toStrictEqual(before.map(expectedRow));
      await harness.repairStore();
      await harness.sink.put(messages);
      const stored = (await harness.readRows()).map((s) => s.row);
      expect(stored.sort((a, b) => keyOf(a).localeCompare(keyOf(b)))).toStrictEqual(
        [...before, ...messages].map(expectedRow).sort((a, b) => keyOf(a).localeCompare(keyOf(b))),
      );
    });

    it('rejects a put when some of its rows cannot be stored, even if the others were', async () => {
      const messages = [
        message({ index: 0, receivedAt: '2026-11-22T16:59:59.999Z' }),
        message({ index: 1, receivedAt: '2026-11-22T17:00:00.000Z' }),
        message({ index: 2, receivedAt: '2026-11-22T16:30:00.000Z' }),
      ];
      await harness.refuseHour('2026-11-22T17');

      await expect(harness.sink.put(messages)).rejects.toThrow();

      expect((await harness.readRows()).map((s) => s.row.index)).not.toContain(1);
      // The caller answers 503 and the client sends again: then every row is stored (at least once).
      await harness.repairStore();
      await harness.sink.put(messages);
      const stored = new Set((await harness.readRows()).map((s) => s.row.index));
      expect([...stored].sort()).toEqual([0, 1, 2]);
    });
  });
}
