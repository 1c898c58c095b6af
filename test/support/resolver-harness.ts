import {
  type AttributeValue,
  BatchWriteItemCommand,
  ScanCommand,
  type WriteRequest,
} from '@aws-sdk/client-dynamodb';
import { DynamoDbIdentityStore } from '../../src/adapters/aws/dynamodb-identity-store';
import { fromAttributes } from '../../src/adapters/aws/dynamodb-items';
import { decodeProfileDoc } from '../../src/adapters/aws/profile-doc';
import type { CallType, JsonObject, StreamRecord } from '../../src/core/events/stream-record';
import { compareStrings, type Identifier, identifierKey } from '../../src/core/identity/identifier';
import { DEFAULT_IDENTITY_CONFIG, type IdentityConfig } from '../../src/core/identity/identity-config';
import type { IdentityLink } from '../../src/core/identity/identity-link';
import type { LedgerEntry } from '../../src/core/identity/merge-plan';
import type { Profile } from '../../src/core/profile/profile';
import { ManualClock } from '../../src/ports/clock';
import type { IdentityStore } from '../../src/ports/identity-store';
import { type Logger, silentLogger } from '../../src/ports/logger';
import { noResolverMetrics, type ResolverMetrics } from '../../src/ports/resolver-metrics';
import {
  type CompletedMerge,
  createResolver,
  type ResolverEffects,
} from '../../src/use-cases/resolve-identities';
import type { LocalDynamoDb } from './dynalite';

let tableCounter = 0;

/** A stream record as the collector writes it, with defaults for everything a test does not name. */
export function streamRecord(fields: Partial<StreamRecord> & { type: CallType } & JsonObject): StreamRecord {
  const messageId = (fields.messageId as string | undefined) ?? `m-${++recordCounter}`;
  const timestamp = (fields.timestamp as string | undefined) ?? '2026-11-01T10:00:00.000Z';
  return {
    source: 'web',
    messageId,
    receivedAt: timestamp,
    originalTimestamp: timestamp,
    timestamp,
    context: {},
    ...fields,
  } as StreamRecord;
}
let recordCounter = 0;

/** Everything the identity table holds, read with one consistent scan, in a canonical order. */
export interface TableSnapshot {
  /** Live profiles by profile id (the whole stored document), with their pending merges. */
  readonly live: ReadonlyMap<string, Profile>;
  readonly pending: ReadonlyMap<string, readonly string[]>;
  /** Profiles marked as merging (a merge not yet finished): id → into. */
  readonly merging: ReadonlyMap<string, string>;
  /** Redirects left by merges: retired id → into. */
  readonly retired: ReadonlyMap<string, string>;
  /** Identifier key → the profile its item names (raw, before following redirects). */
  readonly owners: ReadonlyMap<string, string>;
  /** Ledger entries as stored (one per item). */
  readonly ledger: readonly LedgerEntry[];
}

/** Every item of a table as stored (tests only: a scan). */
async function scanAttributes(
  engine: LocalDynamoDb,
  tableName: string,
): Promise<Record<string, AttributeValue>[]> {
  const items: Record<string, AttributeValue>[] = [];
  let start: Record<string, AttributeValue> | undefined;
  do {
    const page = await engine.client.send(
      new ScanCommand({ TableName: tableName, ConsistentRead: true, ExclusiveStartKey: start }),
    );
    items.push(...(page.Items ?? []));
    start = page.LastEvaluatedKey;
  } while (start !== undefined);
  return items;
}

/** Every item of a table as JavaScript values (tests only: a scan). */
async function scanItems(engine: LocalDynamoDb, tableName: string): Promise<Record<string, unknown>[]> {
  return (await scanAttributes(engine, tableName)).map((item) => fromAttributes(item));
}

/** Copies every item of one table into another (a cheap way to start many runs from one state). */
export async function copyTable(engine: LocalDynamoDb, from: string, to: string): Promise<void> {
  const items = await scanAttributes(engine, from);
  for (let i = 0; i < items.length; i += 25) {
    let requests: WriteRequest[] = items.slice(i, i + 25).map((Item) => ({ PutRequest: { Item } }));
    while (requests.length > 0) {
      const result = await engine.client.send(
        new BatchWriteItemCommand({ RequestItems: { [to]: requests } }),
      );
      requests = result.UnprocessedItems?.[to] ?? [];
    }
  }
}

/** Reads the whole identity table (tests only: a scan). */
export async function scanTable(engine: LocalDynamoDb, tableName: string): Promise<TableSnapshot> {
  const items = await scanItems(engine, tableName);
  const live = new Map<string, Profile>();
  const pending = new Map<string, string[]>();
  const merging = new Map<string, string>();
  const retired = new Map<string, string>();
  const owners = new Map<string, string>();
  const ledger: LedgerEntry[] = [];
  for (const item of items) {
    const pk = item.pk as string;
    const sk = item.sk as string;
    if (sk === 'I') owners.set(pk.slice(2), item.profileId as string);
    else if (sk.startsWith('L#')) ledger.push(JSON.parse(item.entry as string) as LedgerEntry);
    else if (sk === 'P') {
      const id = pk.slice(2);
      if (item.state === 'live') {
        live.set(id, decodeProfileDoc(item.doc as string | Uint8Array));
        const notes = pendingNotes(item.pending);
        if (notes.length > 0) pending.set(id, notes);
      } else if (item.state === 'merging') merging.set(id, item.into as string);
      else retired.set(id, item.into as string);
    }
  }
  const sorted = <V>(map: Map<string, V>) =>
    new Map([...map].sort(([a], [b]) => compareStrings(a, b))) as ReadonlyMap<string, V>;
  ledger.sort((a, b) => compareStrings(a.id, b.id) || compareStrings(a.at, b.at));
  return {
    live: sorted(live),
    pending: sorted(pending),
    merging: sorted(merging),
    retired: sorted(retired),
    owners: sorted(owners),
    ledger,
  };
}

/** The merges noted as pending on a profile item: a string set, or a map of profile id → true. */
function pendingNotes(pending: unknown): string[] {
  if (pending === undefined || pending === null) return [];
  if (pending instanceof Set) return [...(pending as Set<string>)].sort();
  return Object.keys(pending as Record<string, unknown>).sort();
}

/** The live profile each identifier resolves to, following redirects (identifier key → profile id). */
export function resolvedOwners(snapshot: TableSnapshot): Map<string, string> {
  const resolved = new Map<string, string>();
  for (const [key, owner] of snapshot.owners) {
    let id = owner;
    for (let hop = 0; hop < 32 && !snapshot.live.has(id); hop++) {
      const next = snapshot.retired.get(id) ?? snapshot.merging.get(id);
      if (next === undefined) break;
      id = next;
    }
    resolved.set(key, id);
  }
  return resolved;
}

/**
 * What the Profile API shows of a live profile, for comparing two runs: identities, counters, traits,
 * times, groups and recent events. It leaves out what depends on which message happened to create the
 * profile (`profileId`, `createdAt`, `mergedFrom`) and the dedupe memory.
 */
export function profileContent(profile: Profile) {
  return {
    identities: profile.identities.map(identifierKey),
    eventCount: profile.eventCount,
    typeCounts: profile.typeCounts,
    eventCounts: profile.eventCounts,
    otherEventCount: profile.otherEventCount,
    traits: profile.traits,
    consent: profile.consent,
    firstSeen: profile.firstSeen,
    lastSeen: profile.lastSeen,
    groups: profile.groups,
    recentEvents: profile.recentEvents,
  };
}

/** The trait values of a profile, without their versions. */
export const traitValues = (profile: Profile | undefined) =>
  Object.fromEntries(Object.entries(profile?.traits ?? {}).map(([name, entry]) => [name, entry.v]));

/** A resolver over a fresh identity table of `engine`, with what it published kept for assertions. */
export async function resolverOn(
  engine: LocalDynamoDb,
  options: {
    identity?: IdentityConfig;
    metrics?: ResolverMetrics;
    store?: IdentityStore;
    /** Start from a copy of this table's items instead of an empty table. */
    copyOf?: string;
    logger?: Logger;
    nextTurn?: () => Promise<void>;
  } = {},
) {
  const tableName = `identity-${++tableCounter}`;
  await engine.createTable(tableName);
  if (options.copyOf !== undefined) await copyTable(engine, options.copyOf, tableName);
  const dynamo = new DynamoDbIdentityStore({ client: engine.client, tableName });
  const store = options.store ?? dynamo;
  const links: IdentityLink[] = [];
  const merges: CompletedMerge[] = [];
  const clock = new ManualClock(Date.parse('2026-11-01T12:00:00.000Z'));
  const newResolver = (
    s: IdentityStore = store,
    metrics: ResolverMetrics = options.metrics ?? noResolverMetrics,
  ) =>
    createResolver({
      store: s,
      identity: options.identity ?? DEFAULT_IDENTITY_CONFIG,
      clock,
      metrics,
      logger: options.logger ?? silentLogger,
      ...(options.nextTurn === undefined ? {} : { nextTurn: options.nextTurn }),
      publish: async (effects: ResolverEffects) => {
        links.push(...effects.links);
        merges.push(...effects.merges);
      },
    });
  const resolve = newResolver();
  return {
    store: dynamo,
    tableName,
    clock,
    links,
    merges,
    resolve,
    newResolver,
    /** The whole table. */
    snapshot: () => scanTable(engine, tableName),
    /** The live profile an identifier resolves to, following redirects; undefined if none. */
    async profileOf(id: Identifier): Promise<Profile | undefined> {
      const owner = (await dynamo.getOwners([id])).get(identifierKey(id));
      if (owner === undefined) return undefined;
      let profileId = owner.profileId;
      for (let hop = 0; hop < 32; hop++) {
        const record = (await dynamo.getProfiles([profileId])).get(profileId);
        if (record === undefined) return undefined;
        if (record.state === 'live') return record.profile;
        profileId = record.into;
      }
      throw new Error('redirect loop');
    },
  };
}

/** The methods of `IdentityStore` that write. */
export const WRITE_METHODS = [
  'createProfile',
  'writeProfile',
  'claimIdentifier',
  'repointIdentifier',
  'markMerging',
  'retireProfile',
  'appendLedger',
] as const satisfies readonly (keyof IdentityStore)[];
export type WriteMethod = (typeof WRITE_METHODS)[number];

/** A fault a test injects; the resolver sees it as a store that could not be reached. */
export class InjectedFault extends Error {
  override readonly name = 'InjectedFault';
}

/** One call through a {@link FaultyStore}. */
export interface StoreCall {
  readonly method: keyof IdentityStore;
  readonly args: readonly unknown[];
  /** For a write: its number among the writes through this wrapper, from 1. */
  readonly write?: number;
}

/**
 * An `IdentityStore` that delegates to a real one and lets a test fail calls: `before` may throw
 * instead of making the call, `after` may throw once the call has been made (its effect is durable,
 * its answer lost — a Lambda timing out just after a write). Counts every write call.
 */
export class FaultyStore implements IdentityStore {
  writes = 0;
  readonly calls: StoreCall[] = [];

  constructor(
    private readonly inner: IdentityStore,
    private readonly hooks: {
      readonly before?: (call: StoreCall) => void | Promise<void>;
      readonly after?: (call: StoreCall) => void | Promise<void>;
    } = {},
  ) {}

  private async call<T>(method: keyof IdentityStore, args: unknown[], run: () => Promise<T>): Promise<T> {
    const isWrite = (WRITE_METHODS as readonly string[]).includes(method);
    const call: StoreCall = isWrite ? { method, args, write: ++this.writes } : { method, args };
    this.calls.push(call);
    await this.hooks.before?.(call);
    const result = await run();
    await this.hooks.after?.(call);
    return result;
  }

  getOwners(...args: Parameters<IdentityStore['getOwners']>) {
    return this.call('getOwners', args, () => this.inner.getOwners(...args));
  }
  getProfiles(...args: Parameters<IdentityStore['getProfiles']>) {
    return this.call('getProfiles', args, () => this.inner.getProfiles(...args));
  }
  createProfile(...args: Parameters<IdentityStore['createProfile']>) {
    return this.call('createProfile', args, () => this.inner.createProfile(...args));
  }
  writeProfile(...args: Parameters<IdentityStore['writeProfile']>) {
    return this.call('writeProfile', args, () => this.inner.writeProfile(...args));
  }
  claimIdentifier(...args: Parameters<IdentityStore['claimIdentifier']>) {
    return this.call('claimIdentifier', args, () => this.inner.claimIdentifier(...args));
  }
  repointIdentifier(...args: Parameters<IdentityStore['repointIdentifier']>) {
    return this.call('repointIdentifier', args, () => this.inner.repointIdentifier(...args));
  }
  markMerging(...args: Parameters<IdentityStore['markMerging']>) {
    return this.call('markMerging', args, () => this.inner.markMerging(...args));
  }
  retireProfile(...args: Parameters<IdentityStore['retireProfile']>) {
    return this.call('retireProfile', args, () => this.inner.retireProfile(...args));
  }
  appendLedger(...args: Parameters<IdentityStore['appendLedger']>) {
    return this.call('appendLedger', args, () => this.inner.appendLedger(...args));
  }
  listLedger(...args: Parameters<IdentityStore['listLedger']>) {
    return this.call('listLedger', args, () => this.inner.listLedger(...args));
  }
}

/**
 * A store whose process dies at write number `at`: with `when: 'before'` that write is not made, with
 * `'after'` it is made and its answer lost. From then on every call fails, reads included, so nothing
 * after the crash point reaches the table — as if the Lambda had stopped there.
 */
export function crashingStore(inner: IdentityStore, at: number, when: 'before' | 'after'): FaultyStore {
  let dead = false;
  const check = (call: StoreCall, phase: 'before' | 'after') => {
    if (dead && phase === 'before') throw new InjectedFault('the process is gone');
    if (call.write === at && phase === when) {
      dead = true;
      throw new InjectedFault(`crash ${when} write ${at} (${call.method})`);
    }
  };
  return new FaultyStore(inner, {
    before: (call) => check(call, 'before'),
    after: (call) => check(call, 'after'),
  });
}
