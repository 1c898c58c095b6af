import { DeleteTableCommand, GetItemCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DynamoDbIdentityStore } from '../../src/adapters/aws/dynamodb-identity-store';
import { GZIP_FROM_CHARS } from '../../src/adapters/aws/profile-doc';
import { createProfile, type Profile } from '../../src/core/profile/profile';
import { DYNAMODB_ENGINES, uniqueTableName, useEngine } from './dynamodb-engines';
import { describeIdentityStoreContract } from './identity-store.contract';

/**
 * Contract tests the adapter fails today, per engine (reported to the adapter's owner). They run as
 * expected failures and turn red once fixed: then delete the entry.
 */
const KNOWN_BUGS: Readonly<Record<string, Readonly<Record<string, string>>>> = {};

// The DynamoDB adapter against both engines it meets before AWS: dynalite (the local runtime's) and
// DynamoDB Local (AWS's emulator). One engine per suite; a fresh identity table per test.
for (const engine of DYNAMODB_ENGINES) {
  describe(engine.name, () => {
    const running = useEngine(engine);

    describeIdentityStoreContract(
      `DynamoDbIdentityStore on ${engine.name}`,
      async () => {
        const db = running();
        const tableName = uniqueTableName('identity');
        await db.createTable(tableName);
        return {
          store: new DynamoDbIdentityStore({ client: db.client, tableName }),
          // Frees the engine's memory: some tests hold ~18 MB of profiles.
          close: async () => {
            await db.client.send(new DeleteTableCommand({ TableName: tableName }));
          },
        };
      },
      { knownBugs: KNOWN_BUGS[engine.name] ?? {} },
    );

    // How the adapter lays a profile out in its item: what the contract (any store) does not see.
    describe(`DynamoDbIdentityStore profile items on ${engine.name}`, () => {
      let tableName: string;
      let store: DynamoDbIdentityStore;
      beforeEach(async () => {
        tableName = uniqueTableName('items');
        await running().createTable(tableName);
        store = new DynamoDbIdentityStore({ client: running().client, tableName });
      });
      afterEach(async () => {
        await running().client.send(new DeleteTableCommand({ TableName: tableName }));
      });
      const rawDoc = async (profileId: string) =>
        (
          await running().client.send(
            new GetItemCommand({
              TableName: tableName,
              Key: { pk: { S: `P#${profileId}` }, sk: { S: 'P' } },
            }),
          )
        ).Item?.doc;

      it('keeps a small profile as JSON text, and stores a large one gzipped (binary), a third of its size; both read back exactly', async () => {
        const small = createProfile('p_small', '2026-11-01T00:00:00.000Z');
        const large = withTraits(createProfile('p_large', '2026-11-01T00:00:00.000Z'), 120);
        expect(JSON.stringify(small).length).toBeLessThan(GZIP_FROM_CHARS);
        expect(await store.createProfile(small)).toBe(true);
        expect(await store.createProfile(large)).toBe(true);

        expect((await rawDoc('p_small'))?.S).toBe(JSON.stringify(small));
        const stored = (await rawDoc('p_large'))?.B;
        expect(stored).toBeInstanceOf(Uint8Array);
        expect([stored?.[0], stored?.[1]]).toEqual([0x1f, 0x8b]); // gzip: readable with any gunzip
        expect(stored?.byteLength).toBeLessThan(JSON.stringify(large).length / 3);

        const read = await store.getProfiles(['p_small', 'p_large']);
        expect(read.get('p_small')).toMatchObject({ state: 'live', profile: small });
        expect(read.get('p_large')).toMatchObject({ state: 'live', profile: large });
        const grown = withTraits(large, 200);
        expect(await store.writeProfile(grown, 1)).toBe(2);
        expect((await store.getProfiles(['p_large'])).get('p_large')).toMatchObject({ profile: grown });
      });

      it('reads a profile written as JSON text however large (items stored before compression)', async () => {
        const old = withTraits(createProfile('p_old', '2026-11-01T00:00:00.000Z'), 120);
        await running().client.send(
          new PutItemCommand({
            TableName: tableName,
            Item: {
              pk: { S: 'P#p_old' },
              sk: { S: 'P' },
              state: { S: 'live' },
              ver: { N: '3' },
              createdAt: { S: old.createdAt },
              doc: { S: JSON.stringify(old) },
              pending: { M: {} },
            },
          }),
        );
        expect((await store.getProfiles(['p_old'])).get('p_old')).toEqual({
          state: 'live',
          profile: old,
          version: 3,
          pendingFrom: [],
        });
        // Its next write compresses it.
        expect(await store.writeProfile(withTraits(old, 121), 3)).toBe(4);
        expect((await rawDoc('p_old'))?.B).toBeInstanceOf(Uint8Array);
      });

      it('counts the write units AWS would bill: a unit per started kilobyte of the item written', async () => {
        const small = createProfile('p_units_small', '2026-11-01T00:00:00.000Z');
        await store.createProfile(small);
        expect(store.requests.writeUnits).toBe(1);
        const large = withTraits(createProfile('p_units_large', '2026-11-01T00:00:00.000Z'), 600);
        expect(await store.createProfile(large)).toBe(true);
        const gzipped = (await rawDoc('p_units_large'))?.B?.byteLength ?? 0;
        expect(store.requests.writeUnits - 1).toBe(Math.ceil((gzipped + 160) / 1024));
        expect(store.requests.writeUnits - 1).toBeGreaterThan(1);
      });
    });
  });
}

/** The profile with `count` traits of distinct, not very compressible values. */
function withTraits(profile: Profile, count: number): Profile {
  const traits: Record<string, Profile['traits'][string]> = {};
  for (let i = 0; i < count; i++) {
    traits[`trait_${String(i).padStart(3, '0')}`] = {
      v: `value ${i} ${((i * 2654435761) % 2 ** 32).toString(36)}`,
      t: 1_700_000_000_000 + i,
      h: (i * 40503).toString(16).padStart(16, '0'),
    };
  }
  return { ...profile, traits };
}
