import { DynamoDbIdentityStore } from '../../src/adapters/aws/dynamodb-identity-store';
import type { CallType, JsonObject, StreamRecord } from '../../src/core/events/stream-record';
import { type Identifier, identifierKey } from '../../src/core/identity/identifier';
import { DEFAULT_IDENTITY_CONFIG, type IdentityConfig } from '../../src/core/identity/identity-config';
import type { IdentityLink } from '../../src/core/identity/identity-link';
import type { Profile } from '../../src/core/profile/profile';
import { ManualClock } from '../../src/ports/clock';
import type { IdentityStore } from '../../src/ports/identity-store';
import { silentLogger } from '../../src/ports/logger';
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

/** A resolver over a fresh identity table of `engine`, with what it published kept for assertions. */
export async function resolverOn(
  engine: LocalDynamoDb,
  options: { identity?: IdentityConfig; metrics?: ResolverMetrics; store?: IdentityStore } = {},
) {
  const tableName = `identity-${++tableCounter}`;
  await engine.createTable(tableName);
  const dynamo = new DynamoDbIdentityStore({ client: engine.client, tableName });
  const store = options.store ?? dynamo;
  const links: IdentityLink[] = [];
  const merges: CompletedMerge[] = [];
  const clock = new ManualClock(Date.parse('2026-11-01T12:00:00.000Z'));
  const newResolver = (s: IdentityStore = store) =>
    createResolver({
      store: s,
      identity: options.identity ?? DEFAULT_IDENTITY_CONFIG,
      clock,
      metrics: options.metrics ?? noResolverMetrics,
      logger: silentLogger,
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
