import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { IdentityLink } from '../../src/core/identity/identity-link';
import { IDENTITY_LINK_COLUMNS } from '../../src/core/lake/tables';
import type { IdentityLinkSink } from '../../src/ports/identity-link-sink';

/** One `identity_links` row as the store holds it, read back the way the lake reads it. */
export interface StoredIdentityLinkRow {
  /** The row's columns; `linked_at` as ISO-8601 UTC text with milliseconds. */
  readonly row: Readonly<Record<string, unknown>>;
  /** The `dt=/hour=` partition the row was stored in; `undefined` where the adapter does not choose it. */
  readonly partition: { readonly dt: string; readonly hour: string } | undefined;
}

/** A store that can refuse single entries of a request (Firehose); the local lake has none. */
export interface EntryFaults {
  /** From now on the entries of links `select` picks are refused the first time they are offered. */
  refuseOnce(select: (row: Readonly<Record<string, unknown>>) => boolean): void;
  /** From now on the entries of links `select` picks are always refused, until `repairStore`. */
  refuseAlways(select: (row: Readonly<Record<string, unknown>>) => boolean): void;
  /** How many entries each request carried, in the order sent (refused requests included). */
  entriesPerRequest(): readonly number[];
}

/**
 * What an adapter supplies to run the {@link IdentityLinkSink} contract: the sink, a way to read back
 * what landed, and ways to make the store fail.
 */
export interface IdentityLinkSinkHarness {
  readonly sink: IdentityLinkSink;
  /** Every row the table holds once what was put has landed, each stored row once, in no particular order. */
  readRows(): Promise<StoredIdentityLinkRow[]>;
  /** From now on every hand-over to the store fails, until {@link repairStore}. */
  breakStore(): Promise<void>;
  /** Undoes {@link breakStore} and any entry faults; keeps what was stored. */
  repairStore(): Promise<void>;
  /** Present where the store can refuse single entries. */
  readonly entryFaults?: EntryFaults;
  close(): Promise<void>;
}

export interface IdentityLinkStoreTraits {
  /** The adapter files each row under the partition of its `linked_at` (the local lake). */
  readonly partitionsByLinkedAt: boolean;
  /** The store's request limits, where it has them, that big puts must be split by. */
  readonly requestLimits?: { readonly entries: number };
}

const COLUMN_NAMES = IDENTITY_LINK_COLUMNS.map((column) => column.name).sort();

let counter = 0;

/** A link as the resolver makes it; override what a test needs. */
export function identityLink(overrides: Partial<IdentityLink> = {}): IdentityLink {
  counter++;
  return {
    identifier: { type: 'anonymous_id', value: `anon-${counter}` },
    profileId: 'p-1',
    linkedAt: '2026-11-22T16:05:12.345Z',
    source: 'web',
    messageId: `m-${counter}`,
    reason: 'linked',
    ...overrides,
  };
}

/** The row the identity_links table must hold for a link: its columns, spelled out. */
export function expectedRow(link: IdentityLink): Record<string, unknown> {
  return {
    id_type: link.identifier.type,
    id_value: link.identifier.value,
    profile_id: link.profileId,
    linked_at: link.linkedAt,
    source: link.source,
    message_id: link.messageId,
    reason: link.reason,
  };
}

function keyOf(row: Readonly<Record<string, unknown>>): string {
  return `${String(row.message_id)}|${String(row.id_type)}|${String(row.id_value)}|${String(row.profile_id)}`;
}

function sortedRows(rows: readonly Readonly<Record<string, unknown>>[]): Readonly<Record<string, unknown>>[] {
  return [...rows].sort((a, b) => (keyOf(a) < keyOf(b) ? -1 : keyOf(a) > keyOf(b) ? 1 : 0));
}

/**
 * The contract every {@link IdentityLinkSink} adapter keeps: once `put` resolves, each link lands
 * exactly once, as one row with exactly the `identity_links` columns (in the partition of its
 * `linked_at` where the adapter partitions); big puts are split by the store's limits; an entry the
 * store refuses is offered again alone; `put` rejects whenever it could not hand every link over.
 */
export function describeIdentityLinkSinkContract(
  adapter: string,
  traits: IdentityLinkStoreTraits,
  createHarness: () => Promise<IdentityLinkSinkHarness>,
): void {
  describe(`IdentityLinkSink contract: ${adapter}`, () => {
    let harness: IdentityLinkSinkHarness;

    beforeEach(async () => {
      harness = await createHarness();
    });

    afterEach(async () => {
      await harness.close();
    });

    it('lands nothing, and does not fail, for an empty put', async () => {
      await expect(harness.sink.put([])).resolves.toBeUndefined();
      expect(await harness.readRows()).toEqual([]);
    });

    it('lands each link exactly once as one row with exactly the identity_links columns', async () => {
      const links = [
        identityLink({ reason: 'linked' }),
        identityLink({
          identifier: { type: 'email', value: 'zoë+ключ@example.com' },
          profileId: 'p-2',
          reason: 'merged',
          source: 'ios',
        }),
        identityLink({
          identifier: { type: 'user_id', value: 'u "quoted" \\ 😀\nline' },
          profileId: 'p-3',
          reason: 'repointed',
          linkedAt: '2026-11-22T16:59:59.999Z',
        }),
      ];

      await harness.sink.put(links);

      const stored = await harness.readRows();
      expect(sortedRows(stored.map((s) => s.row))).toStrictEqual(sortedRows(links.map(expectedRow)));
      for (const { row } of stored) expect(Object.keys(row).sort()).toEqual(COLUMN_NAMES);
    });

    it('lands the links of separate puts, each once', async () => {
      const first = [identityLink(), identityLink()];
      const second = [identityLink({ reason: 'merged', profileId: 'p-9' })];

      await harness.sink.put(first);
      await harness.sink.put(second);

      const stored = (await harness.readRows()).map((s) => s.row);
      expect(sortedRows(stored)).toStrictEqual(sortedRows([...first, ...second].map(expectedRow)));
    });

    if (traits.partitionsByLinkedAt) {
      it('stores each row in the partition of the UTC hour of its linked_at', async () => {
        const times = {
          '2026-11-22T16:05:12.345Z': { dt: '2026-11-22', hour: '16' },
          '2026-11-22T17:00:00.000Z': { dt: '2026-11-22', hour: '17' },
          '2026-12-31T23:59:59.999Z': { dt: '2026-12-31', hour: '23' },
          '2027-01-01T00:00:00.000Z': { dt: '2027-01-01', hour: '00' },
        } as const;
        const links = Object.keys(times).map((linkedAt) => identityLink({ linkedAt }));

        await harness.sink.put(links);

        const stored = await harness.readRows();
        expect(stored).toHaveLength(links.length);
        for (const { row, partition } of stored) {
          expect(partition).toEqual(times[row.linked_at as keyof typeof times]);
        }
      });
    }

    it('lands a big put whole, each link once: 1,234 links, and 600 links of 8 KiB values (over 4 MiB)', async () => {
      const many = Array.from({ length: 1234 }, () => identityLink());
      const wide = Array.from({ length: 600 }, (_, i) =>
        identityLink({ identifier: { type: 'custom_id', value: `${i}-${'x'.repeat(8 * 1024)}` } }),
      );

      await harness.sink.put(many);
      await harness.sink.put(wide);

      const stored = (await harness.readRows()).map((s) => s.row);
      expect(stored).toHaveLength(many.length + wide.length);
      expect(new Set(stored.map(keyOf)).size).toBe(stored.length);
      expect(sortedRows(stored)).toStrictEqual(sortedRows([...many, ...wide].map(expectedRow)));
      if (traits.requestLimits && harness.entryFaults) {
        const sizes = harness.entryFaults.entriesPerRequest();
        expect(Math.max(...sizes)).toBeLessThanOrEqual(traits.requestLimits.entries);
        // 1,234 links need three requests of at most 500; 600 wide ones more than one of 4 MiB.
        expect(sizes.length).toBeGreaterThanOrEqual(5);
      }
    });

    it('rejects a put while the store fails, and lands its links once put again after it recovers', async () => {
      const before = [identityLink({ source: 'before' })];
      const links = [identityLink(), identityLink({ reason: 'merged' })];
      await harness.sink.put(before);
      await harness.breakStore();

      await expect(harness.sink.put(links)).rejects.toThrow();

      await harness.repairStore();
      await harness.sink.put(links);
      const stored = (await harness.readRows()).map((s) => s.row);
      expect(sortedRows(stored)).toStrictEqual(sortedRows([...before, ...links].map(expectedRow)));
    });

    it('keeps rejecting while the store keeps failing', async () => {
      await harness.breakStore();

      for (let i = 0; i < 3; i++) await expect(harness.sink.put([identityLink()])).rejects.toThrow();

      await harness.repairStore();
      expect(await harness.readRows()).toEqual([]);
    });

    if (traits.requestLimits) {
      it('offers an entry the store refuses again alone, and lands every link once', async () => {
        const faults = harness.entryFaults as EntryFaults;
        const links = Array.from({ length: 20 }, () => identityLink());
        const throttled = links[7] as IdentityLink;
        faults.refuseOnce((row) => row.message_id === throttled.messageId);

        await harness.sink.put(links);

        expect(faults.entriesPerRequest()).toEqual([20, 1]);
        const stored = (await harness.readRows()).map((s) => s.row);
        expect(sortedRows(stored)).toStrictEqual(sortedRows(links.map(expectedRow)));
      });

      it('rejects when an entry is still refused after its retries, having offered only it again', async () => {
        const faults = harness.entryFaults as EntryFaults;
        const links = Array.from({ length: 5 }, () => identityLink());
        const refused = links[2] as IdentityLink;
        faults.refuseAlways((row) => row.message_id === refused.messageId);

        await expect(harness.sink.put(links)).rejects.toThrow(/1 identity links/);

        const [first, ...retries] = faults.entriesPerRequest();
        expect(first).toBe(5);
        expect(retries.length).toBeGreaterThan(0);
        for (const retry of retries) expect(retry).toBe(1);
        const stored = (await harness.readRows()).map((s) => s.row.message_id);
        expect(stored).not.toContain(refused.messageId);
        expect(stored).toHaveLength(4);
      });
    }
  });
}
