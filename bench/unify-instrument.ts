// Bench-only instrumentation of the identity store, shared by the unify server's main thread (the
// Profile API's calls) and its resolver thread (`unify-resolver-thread.ts`): the store's methods are
// wrapped on their prototype, so the runtime itself is unchanged.
import { DynamoDbIdentityStore } from '../src/adapters/aws/dynamodb-identity-store';

/** Identity store calls by kind, as the resolver and the Profile API made them. */
export interface StoreCalls {
  /** Profile puts (a new profile). */
  createProfile: number;
  /** Profile updates without a merge note: coalesced flushes, identifiers listed, lost claims undone. */
  writeProfile: number;
  /** Profile updates that absorb a merged profile (merge step 2). */
  writeProfileAbsorb: number;
  /** Profile updates that clear a finished merge's note (merge step 5). */
  writeProfileClear: number;
  /** Identifier puts (a first claim). */
  claimIdentifier: number;
  /** Identifier updates (merge step 3). */
  repointIdentifier: number;
  /** Merge step 1 (a write and a read). */
  markMerging: number;
  /** Merge step 4. */
  retireProfile: number;
  /** Ledger entries put (one write each). */
  ledgerEntries: number;
  getOwners: number;
  getProfiles: number;
  listLedger: number;
}

export function noCalls(): StoreCalls {
  return {
    createProfile: 0,
    writeProfile: 0,
    writeProfileAbsorb: 0,
    writeProfileClear: 0,
    claimIdentifier: 0,
    repointIdentifier: 0,
    markMerging: 0,
    retireProfile: 0,
    ledgerEntries: 0,
    getOwners: 0,
    getProfiles: 0,
    listLedger: 0,
  };
}

export function addCalls(a: StoreCalls, b: StoreCalls): StoreCalls {
  const sum = noCalls();
  for (const key of Object.keys(sum) as (keyof StoreCalls)[]) sum[key] = a[key] + b[key];
  return sum;
}

/**
 * Counts every identity store call of this thread into `calls`, and pushes the milliseconds of each
 * read (`getOwners`, `getProfiles`: from call to answer, as the SDK client sees it) onto `reads`.
 */
export function instrumentStore(calls: StoreCalls, reads: number[]): void {
  const proto = DynamoDbIdentityStore.prototype as unknown as Record<string, (...args: unknown[]) => unknown>;
  /** Wraps a store method to count its calls under `kind(...args)`, `weight(...args)` at a time. */
  const count = (
    name: keyof DynamoDbIdentityStore,
    kind: (...args: unknown[]) => keyof StoreCalls,
    weight: (...args: unknown[]) => number = () => 1,
  ) => {
    const original = proto[name] as (...args: unknown[]) => unknown;
    proto[name] = function (this: DynamoDbIdentityStore, ...args: unknown[]) {
      const counted = kind(...args);
      calls[counted] += weight(...args);
      if (counted !== 'getOwners' && counted !== 'getProfiles') return original.apply(this, args);
      const start = performance.now();
      return (original.apply(this, args) as Promise<unknown>).finally(() =>
        reads.push(performance.now() - start),
      );
    };
  };
  count('createProfile', () => 'createProfile');
  count('writeProfile', (_profile, _version, options) => {
    const pending = options as { addPending?: string; removePending?: string } | undefined;
    if (pending?.addPending !== undefined) return 'writeProfileAbsorb';
    return pending?.removePending !== undefined ? 'writeProfileClear' : 'writeProfile';
  });
  count('claimIdentifier', () => 'claimIdentifier');
  count('repointIdentifier', () => 'repointIdentifier');
  count('markMerging', () => 'markMerging');
  count('retireProfile', () => 'retireProfile');
  count(
    'appendLedger',
    () => 'ledgerEntries',
    (entries) => (entries as readonly unknown[]).length,
  );
  count('getOwners', () => 'getOwners');
  count('getProfiles', () => 'getProfiles');
  count('listLedger', () => 'listLedger');
}

/** The channel between the unify server and its resolver thread (both in the server's process). */
export const RESOLVER_THREAD_CHANNEL = 'mosaic-bench-unify-resolver';

/** The resolver thread's answer: its calls so far, and its reads since the last answer. */
export interface ResolverThreadCalls {
  readonly id: number;
  readonly calls: StoreCalls;
  readonly reads: number[];
}
