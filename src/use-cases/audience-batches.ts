import type { ConsentPreferences } from '../core/activation/consent';
import {
  type AudienceMember,
  type DeliveryBatch,
  idempotencyKey,
  planBatches,
} from '../core/activation/delivery-plan';
import type { Destination } from '../core/activation/destination-config';
import type { MemberRecord } from '../core/activation/pii';
import { compareStrings } from '../core/identity/identifier';
import type { AudienceReader, AudienceSource } from '../ports/audience-reader';
import type { DeliveryLedger } from '../ports/delivery-ledger';
import type { IdentityStore } from '../ports/identity-store';

/**
 * The batches of one export for one destination (issue #5): the reader's pages cut into the
 * destination's batch size, keyed, checked against the ledger and joined with their members' consent
 * — one batch read ahead of the one being sent.
 */

/** A member whose profile is merged into another is judged by the survivor's consent (this many hops). */
const MAX_REDIRECTS = 4;

/** What {@link batchesToSend} reads. */
export interface AudienceBatchDeps {
  readonly reader: AudienceReader;
  readonly ledger: Pick<DeliveryLedger, 'isDelivered'>;
  /** Members' profiles, for their consent (batch reads). */
  readonly profiles: Pick<IdentityStore, 'getProfiles'>;
}

/** How far {@link batchesToSend} has read: batches cut so far, and whether it stopped on purpose. */
export interface BatchProgress {
  index: number;
  finished: boolean;
}

/** A batch to deliver, or one the ledger already has. */
export type Candidate =
  | { readonly batch: DeliveryBatch<MemberRecord>; readonly key: string; readonly delivered: true }
  | {
      readonly batch: DeliveryBatch<MemberRecord>;
      readonly key: string;
      readonly delivered: false;
      readonly consent: { batch: DeliveryBatch<AudienceMember>; gone: number };
    };

/**
 * The export's batches from the first one this call delivers (`fromBatch`, or `onlyBatch` alone), in
 * order: each with whether the ledger has its key and, if not, its members' consent.
 */
export async function* batchesToSend(
  deps: AudienceBatchDeps,
  source: AudienceSource,
  destination: Destination,
  range: {
    readonly exportId: string;
    readonly first: number;
    readonly only?: number;
    readonly total: number;
  },
  progress: BatchProgress,
): AsyncGenerator<Candidate> {
  const { exportId, first, only, total } = range;
  for await (const members of cut(deps.reader.pages(source, destination.batchSize), destination.batchSize)) {
    // Each cut is one batch: the same cut as `planBatches` over the whole (ordered) audience.
    for (const slice of planBatches(members, destination.batchSize)) {
      if (progress.index >= total)
        throw new Error('the audience reader returned more members than it counted');
      const batch = { index: progress.index, total, members: slice.members };
      progress.index++;
      if (batch.index < first) continue;
      if (only !== undefined && batch.index > only) {
        progress.finished = true;
        return;
      }
      const key = idempotencyKey(exportId, destination.name, batch.index);
      if (await deps.ledger.isDelivered(destination.name, key)) yield { batch, key, delivered: true };
      else yield { batch, key, delivered: false, consent: await attachConsent(deps.profiles, batch) };
    }
  }
}

/**
 * The items of `source`, each next one asked for as soon as the current one is handed out: the
 * source's work for item i + 1 overlaps the caller's work on item i. Stopping early waits for the item
 * read ahead, then closes the source.
 */
export async function* readAhead<T>(source: AsyncIterable<T>): AsyncGenerator<T> {
  const iterator = source[Symbol.asyncIterator]();
  let next = iterator.next();
  let done = false;
  try {
    for (;;) {
      const current = await next;
      if (current.done) {
        done = true;
        return;
      }
      next = iterator.next();
      // A failure of the read ahead is thrown when it is awaited above, not reported as unhandled.
      next.catch(() => undefined);
      yield current.value;
    }
  } finally {
    if (!done) {
      await next.catch(() => undefined);
      await iterator.return?.();
    }
  }
}

/**
 * The batch's members with their consent, read in one batch read (and one more per hop for members
 * whose profile was merged into another since the export: the survivor's consent counts). Members
 * whose profile is gone are left out and counted in `gone`: with no profile there is no consent.
 */
async function attachConsent(
  profiles: Pick<IdentityStore, 'getProfiles'>,
  batch: DeliveryBatch<MemberRecord>,
): Promise<{ batch: DeliveryBatch<AudienceMember>; gone: number }> {
  const consent = new Map<string, ConsentPreferences | undefined>();
  /** Member profile id → the profile id to read next. */
  let pending = new Map<string, string>(batch.members.map((m) => [m.profileId, m.profileId]));
  for (let hop = 0; hop <= MAX_REDIRECTS && pending.size > 0; hop++) {
    const records = await profiles.getProfiles([...new Set(pending.values())]);
    const next = new Map<string, string>();
    for (const [member, id] of pending) {
      const record = records.get(id);
      if (record === undefined) continue;
      if (record.state === 'retired') next.set(member, record.into);
      else consent.set(member, record.profile.consent?.categoryPreferences);
    }
    pending = next;
  }
  const members: AudienceMember[] = [];
  for (const member of batch.members) {
    if (!consent.has(member.profileId)) continue;
    const preferences = consent.get(member.profileId);
    members.push(preferences === undefined ? member : { ...member, consent: preferences });
  }
  return {
    batch: { index: batch.index, total: batch.total, members },
    gone: batch.members.length - members.length,
  };
}

/**
 * Re-cuts the reader's pages into runs of exactly `size` members (the last may be shorter), whatever
 * the page sizes, checking that profile ids strictly increase throughout — so batch `i` always holds
 * the same people and its key stays valid across retries and replays.
 */
async function* cut(
  pages: AsyncIterable<readonly MemberRecord[]>,
  size: number,
): AsyncIterable<MemberRecord[]> {
  let run: MemberRecord[] = [];
  let last: string | undefined;
  for await (const page of pages) {
    for (const member of page) {
      if (last !== undefined && compareStrings(last, member.profileId) >= 0) {
        throw new Error('the audience reader returned members out of profile-id order');
      }
      last = member.profileId;
      run.push(member);
      if (run.length === size) {
        yield run;
        run = [];
      }
    }
  }
  if (run.length > 0) yield run;
}
