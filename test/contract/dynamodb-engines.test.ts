import {
  type AttributeValue,
  BatchGetItemCommand,
  type BatchGetItemCommandOutput,
  ConditionalCheckFailedException,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { describe, expect, it } from 'vitest';
import type { LocalDynamoDb } from '../support/dynalite';
import { DYNAMODB_ENGINES, uniqueTableName, useEngine } from './dynamodb-engines';

/**
 * What the identity store relies on DynamoDB for, checked against both engines it runs on locally, so
 * a difference between dynalite, DynamoDB Local (and so AWS) shows up here by name rather than as a
 * puzzling store failure. Where the engines differ, the expectation is per engine and the test name
 * says what each does.
 */
interface EngineDifferences {
  /** Whether a failed conditional write returns the item when asked to (ReturnValuesOnConditionCheckFailure). */
  readonly returnsItemOnConditionFailure: boolean;
  /** Most item bytes one BatchGetItem answer carries before the rest comes back as UnprocessedKeys. */
  readonly batchGetResponseBytes: number;
  readonly batchGetResponseLimit: string;
  /** Whether the 400 KiB item limit counts strings in UTF-8 bytes (DynamoDB) or in UTF-16 code units. */
  readonly itemSizeInUtf8Bytes: boolean;
}

const MiB = 1024 * 1024;
const DIFFERENCES: Readonly<Record<string, EngineDifferences>> = {
  // dynalite 4 accepts ReturnValuesOnConditionCheckFailure but ignores it; answers a BatchGetItem in
  // parts past 1 MiB + one item; measures a string by `String.length`, so non-ASCII text can make an
  // item larger than DynamoDB accepts (up to 3x for CJK text).
  dynalite: {
    returnsItemOnConditionFailure: false,
    batchGetResponseBytes: MiB + 400 * 1024,
    batchGetResponseLimit: '1 MiB + 400 KiB',
    itemSizeInUtf8Bytes: false,
  },
  // DynamoDB Local 1.25 behaves like DynamoDB in all three (ReturnValuesOnConditionCheckFailure since 1.25.0).
  'DynamoDB Local': {
    returnsItemOnConditionFailure: true,
    batchGetResponseBytes: 16 * MiB,
    batchGetResponseLimit: '16 MiB',
    itemSizeInUtf8Bytes: true,
  },
};

/** DynamoDB's item limit: attribute names and values, UTF-8. */
const ITEM_LIMIT_BYTES = 400 * 1024;
/** The rest of a `{ pk: "big" or "utf", sk: "P", doc }` item: "pk" + 3 bytes, "sk" + "P", "doc". */
const BIG_OVERHEAD = 2 + 3 + 2 + 1 + 3;

const s = (value: string): AttributeValue => ({ S: value });
const n = (value: number): AttributeValue => ({ N: String(value) });
const key = (pk: string, sk = 'P') => ({ pk: s(pk), sk: s(sk) });

/** The error `promise` rejects with (fails the test if it resolves). */
async function rejection(
  promise: Promise<unknown>,
): Promise<Error & { $metadata?: { httpStatusCode?: number } }> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected the call to be refused, but it succeeded');
}

for (const engine of DYNAMODB_ENGINES) {
  const differs = DIFFERENCES[engine.name];
  if (differs === undefined) throw new Error(`no recorded differences for ${engine.name}`);

  describe(`DynamoDB semantics the identity store relies on: ${engine.name}`, () => {
    const table = uniqueTableName('semantics');
    let db: LocalDynamoDb;
    useEngine(engine, async (started) => {
      db = started;
      await db.createTable(table);
    });

    const put = (item: Record<string, AttributeValue>, condition?: string) =>
      db.client.send(
        new PutItemCommand({
          TableName: table,
          Item: item,
          ...(condition === undefined ? {} : { ConditionExpression: condition }),
        }),
      );
    const get = async (pk: string, sk = 'P') =>
      (await db.client.send(new GetItemCommand({ TableName: table, Key: key(pk, sk), ConsistentRead: true })))
        .Item;

    it('runs on this machine, never against AWS', () => {
      expect(new URL(db.endpoint).hostname).toBe('127.0.0.1');
    });

    it('PutItem with attribute_not_exists(pk) writes once and refuses with ConditionalCheckFailedException (named and typed) after', async () => {
      await put({ ...key('put-once'), v: s('first') }, 'attribute_not_exists(pk)');
      const error = await rejection(put({ ...key('put-once'), v: s('second') }, 'attribute_not_exists(pk)'));
      expect(error.name).toBe('ConditionalCheckFailedException');
      expect(error).toBeInstanceOf(ConditionalCheckFailedException);
      expect(error.$metadata?.httpStatusCode).toBe(400);
      expect((await get('put-once'))?.v).toEqual(s('first'));
    });

    it('of 20 concurrent conditional puts of one key, exactly one succeeds', async () => {
      const outcomes = await Promise.allSettled(
        Array.from({ length: 20 }, (_, i) => put({ ...key('race'), who: n(i) }, 'attribute_not_exists(pk)')),
      );
      const won = outcomes.flatMap((outcome, i) => (outcome.status === 'fulfilled' ? [i] : []));
      expect(won).toHaveLength(1);
      for (const outcome of outcomes) {
        if (outcome.status === 'rejected')
          expect((outcome.reason as Error).name).toBe('ConditionalCheckFailedException');
      }
      expect((await get('race'))?.who).toEqual(n(won[0] as number));
    });

    it('UpdateItem conditional on a version number: the current version writes and increments, a stale one is refused', async () => {
      await put({ ...key('versioned'), ver: n(1), state: s('live'), doc: s('v1') });
      const write = (expected: number, doc: string) =>
        db.client.send(
          new UpdateItemCommand({
            TableName: table,
            Key: key('versioned'),
            UpdateExpression: 'SET doc = :doc, ver = ver + :one',
            ConditionExpression: 'ver = :expected AND #state = :live',
            ExpressionAttributeNames: { '#state': 'state' },
            ExpressionAttributeValues: {
              ':doc': s(doc),
              ':one': n(1),
              ':expected': n(expected),
              ':live': s('live'),
            },
            ReturnValues: 'ALL_NEW',
          }),
        );
      expect((await write(1, 'v2')).Attributes).toMatchObject({ ver: n(2), doc: s('v2') });
      const stale = await rejection(write(1, 'stale'));
      expect(stale.name).toBe('ConditionalCheckFailedException');
      expect(await get('versioned')).toMatchObject({ ver: n(2), doc: s('v2') });
    });

    it('a conditional UpdateItem never creates a missing item', async () => {
      const error = await rejection(
        db.client.send(
          new UpdateItemCommand({
            TableName: table,
            Key: key('missing'),
            UpdateExpression: 'SET #state = :merging',
            ConditionExpression: '#state = :live',
            ExpressionAttributeNames: { '#state': 'state' },
            ExpressionAttributeValues: { ':merging': s('merging'), ':live': s('live') },
          }),
        ),
      );
      expect(error.name).toBe('ConditionalCheckFailedException');
      expect(await get('missing')).toBeUndefined();
    });

    it('string sets: ADD and DELETE in UpdateItem keep each member once, and deleting the last member removes the attribute', async () => {
      await put({ ...key('sets'), ver: n(1) });
      const update = (expression: string, values: Record<string, AttributeValue>) =>
        db.client.send(
          new UpdateItemCommand({
            TableName: table,
            Key: key('sets'),
            UpdateExpression: expression,
            ExpressionAttributeValues: values,
            ReturnValues: 'ALL_NEW',
          }),
        );
      const members = (attributes: Record<string, AttributeValue> | undefined) =>
        attributes?.pending?.SS === undefined ? undefined : [...attributes.pending.SS].sort();

      // SET and ADD on different attributes in one write (as a profile write with addPending does).
      let result = await update('SET ver = ver + :one ADD pending :a', {
        ':one': n(1),
        ':a': { SS: ['p1'] },
      });
      expect(members(result.Attributes)).toEqual(['p1']);
      result = await update('ADD pending :a', { ':a': { SS: ['p2', 'p1'] } });
      expect(members(result.Attributes)).toEqual(['p1', 'p2']);
      result = await update('DELETE pending :d', { ':d': { SS: ['p1', 'never-added'] } });
      expect(members(result.Attributes)).toEqual(['p2']);
      result = await update('DELETE pending :d', { ':d': { SS: ['p2'] } });
      expect(result.Attributes).not.toHaveProperty('pending');
      // Deleting from a set that is not there is no error.
      result = await update('DELETE pending :d', { ':d': { SS: ['p2'] } });
      expect(result.Attributes).toMatchObject({ ver: n(2) });
    });

    it('ADD and DELETE on the same set in one UpdateItem are refused (ValidationException: overlapping paths)', async () => {
      await put({ ...key('overlap'), pending: { SS: ['old'] } });
      const error = await rejection(
        db.client.send(
          new UpdateItemCommand({
            TableName: table,
            Key: key('overlap'),
            UpdateExpression: 'ADD pending :a DELETE pending :d',
            ExpressionAttributeValues: { ':a': { SS: ['new'] }, ':d': { SS: ['old'] } },
          }),
        ),
      );
      expect(error.name).toBe('ValidationException');
      expect(error.message).toMatch(/overlap/);
      expect((await get('overlap'))?.pending).toEqual({ SS: ['old'] });
    });

    it('map keys: SET of one key and REMOVE of another in one UpdateItem both apply; SET under a missing map is refused', async () => {
      // How a profile's pending merges are kept: `pending` is a map of profile id → true.
      await put({ ...key('map'), pending: { M: { p_old: { BOOL: true } } } });
      const update = (
        expression: string,
        names: Record<string, string>,
        values?: Record<string, AttributeValue>,
      ) =>
        db.client.send(
          new UpdateItemCommand({
            TableName: table,
            Key: key('map'),
            UpdateExpression: expression,
            ExpressionAttributeNames: names,
            ...(values === undefined ? {} : { ExpressionAttributeValues: values }),
            ReturnValues: 'ALL_NEW',
          }),
        );
      let result = await update(
        'SET pending.#add = :true REMOVE pending.#remove',
        { '#add': 'p_new', '#remove': 'p_old' },
        { ':true': { BOOL: true } },
      );
      expect(result.Attributes?.pending).toEqual({ M: { p_new: { BOOL: true } } });
      // Removing the last key leaves an empty map; removing a key that is not there is no error.
      result = await update('REMOVE pending.#a, pending.#b', { '#a': 'p_new', '#b': 'p_never' });
      expect(result.Attributes?.pending).toEqual({ M: {} });

      await put({ ...key('map-missing') });
      const missing = await rejection(
        db.client.send(
          new UpdateItemCommand({
            TableName: table,
            Key: key('map-missing'),
            UpdateExpression: 'SET pending.#add = :true',
            ExpressionAttributeNames: { '#add': 'p_new' },
            ExpressionAttributeValues: { ':true': { BOOL: true } },
          }),
        ),
      );
      expect(missing.name).toBe('ValidationException');
      expect(missing.message).toMatch(/document path/i);
    });

    it('BatchGetItem takes at most 100 keys and no duplicates; chunks of 100 return every item that exists and skip unknown keys', async () => {
      const ids = Array.from({ length: 150 }, (_, i) => `batch-${String(i).padStart(3, '0')}`);
      await Promise.all(ids.filter((_, i) => i % 3 !== 0).map((id) => put({ ...key(id), id: s(id) })));
      const batchGet = (pks: readonly string[]) =>
        db.client.send(
          new BatchGetItemCommand({
            RequestItems: { [table]: { Keys: pks.map((pk) => key(pk)), ConsistentRead: true } },
          }),
        );

      expect((await rejection(batchGet(ids.slice(0, 101)))).name).toBe('ValidationException');
      expect((await rejection(batchGet(['batch-001', 'batch-001']))).name).toBe('ValidationException');

      const found: string[] = [];
      for (let i = 0; i < ids.length; i += 100) {
        const answer = await batchGet(ids.slice(i, i + 100));
        expect(answer.UnprocessedKeys?.[table]).toBeUndefined();
        for (const item of answer.Responses?.[table] ?? []) found.push(item.id?.S as string);
      }
      expect(found.sort()).toEqual(ids.filter((_, i) => i % 3 !== 0));
    });

    it(`BatchGetItem answers large items in parts (UnprocessedKeys past ${differs.batchGetResponseLimit}); retrying those keys returns each item once`, async () => {
      // 50 items of 350 KB: 17.5 MB, more than any one answer carries on either engine (or DynamoDB).
      const ids = Array.from({ length: 50 }, (_, i) => `large-${i}`);
      const body = 'y'.repeat(350_000);
      for (let i = 0; i < ids.length; i += 10) {
        await Promise.all(ids.slice(i, i + 10).map((id) => put({ ...key(id), id: s(id), body: s(body) })));
      }
      let keys: Record<string, AttributeValue>[] | undefined = ids.map((id) => key(id));
      const found: string[] = [];
      const answers: BatchGetItemCommandOutput[] = [];
      while (keys !== undefined && keys.length > 0) {
        const answer: BatchGetItemCommandOutput = await db.client.send(
          new BatchGetItemCommand({ RequestItems: { [table]: { Keys: keys, ConsistentRead: true } } }),
        );
        answers.push(answer);
        const items = answer.Responses?.[table] ?? [];
        expect(items.length).toBeGreaterThan(0);
        expect(items.length * body.length).toBeLessThanOrEqual(differs.batchGetResponseBytes);
        for (const item of items) {
          expect(item.body?.S).toHaveLength(body.length);
          found.push(item.id?.S as string);
        }
        keys = answer.UnprocessedKeys?.[table]?.Keys;
      }
      expect(answers.length).toBeGreaterThan(1);
      expect(answers[0]?.UnprocessedKeys?.[table]?.Keys?.length).toBeGreaterThan(0);
      expect(found.sort()).toEqual([...ids].sort());
    });

    it('Query with begins_with on the sort key returns only that prefix, in sort-key order, page by page', async () => {
      const pk = 'P#query';
      for (const sk of ['P', 'L#2026-01-02#b', 'L#2026-01-01#c', 'L#2026-01-01#a', 'LX', 'K#1', 'M']) {
        await put({ ...key(pk, sk) });
      }
      const page = (start?: Record<string, AttributeValue>) =>
        db.client.send(
          new QueryCommand({
            TableName: table,
            KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
            ExpressionAttributeValues: { ':pk': s(pk), ':prefix': s('L#') },
            ConsistentRead: true,
            Limit: 2,
            ...(start === undefined ? {} : { ExclusiveStartKey: start }),
          }),
        );
      const first = await page();
      expect(first.LastEvaluatedKey).toBeDefined();
      const second = await page(first.LastEvaluatedKey);
      const sks = [...(first.Items ?? []), ...(second.Items ?? [])].map((item) => item.sk?.S);
      expect(sks).toEqual(['L#2026-01-01#a', 'L#2026-01-01#c', 'L#2026-01-02#b']);
    });

    it('an item of exactly 400 KiB (attribute names counted) is stored and read back whole; one byte more is refused', async () => {
      const ascii = 'x'.repeat(ITEM_LIMIT_BYTES - BIG_OVERHEAD);
      await put({ ...key('big'), doc: s(ascii) });
      expect((await get('big'))?.doc?.S).toBe(ascii);
      const over = await rejection(put({ ...key('big'), doc: s(`${ascii}x`) }));
      expect(over.name).toBe('ValidationException');
      expect(over.message).toMatch(/size/i);
    });

    it(
      differs.itemSizeInUtf8Bytes
        ? 'the item limit counts strings in UTF-8 bytes, as DynamoDB does'
        : 'the item limit counts strings in UTF-16 code units, not UTF-8 bytes: it accepts non-ASCII items DynamoDB refuses',
      async () => {
        // 204,794 × "é" + "x": 409,589 UTF-8 bytes, the most the value may take; one more "é" is over.
        const accented = 'é'.repeat((ITEM_LIMIT_BYTES - BIG_OVERHEAD - 1) / 2);
        await put({ ...key('utf'), doc: s(`${accented}x`) });
        expect((await get('utf'))?.doc?.S).toBe(`${accented}x`);
        const overByBytes = put({ ...key('utf'), doc: s(`${accented}é`) });
        if (differs.itemSizeInUtf8Bytes) {
          expect((await rejection(overByBytes)).name).toBe('ValidationException');
        } else {
          await overByBytes;
          expect((await get('utf'))?.doc?.S).toBe(`${accented}é`);
          // It does refuse past the limit in code units.
          const overByUnits = 'é'.repeat(ITEM_LIMIT_BYTES - BIG_OVERHEAD + 1);
          expect((await rejection(put({ ...key('utf'), doc: s(overByUnits) }))).name).toBe(
            'ValidationException',
          );
        }
      },
    );

    it(
      differs.returnsItemOnConditionFailure
        ? 'ReturnValuesOnConditionCheckFailure: the refused write returns the item as it is (supported)'
        : 'ReturnValuesOnConditionCheckFailure: ignored, the refused write returns no item (not supported; a store must read after a failed condition)',
      async () => {
        await put({ ...key('rvoccf'), ver: n(7) });
        const error = (await rejection(
          db.client.send(
            new UpdateItemCommand({
              TableName: table,
              Key: key('rvoccf'),
              UpdateExpression: 'SET ver = ver + :one',
              ConditionExpression: 'ver = :expected',
              ExpressionAttributeValues: { ':one': n(1), ':expected': n(6) },
              ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
            }),
          ),
        )) as ConditionalCheckFailedException;
        expect(error).toBeInstanceOf(ConditionalCheckFailedException);
        if (differs.returnsItemOnConditionFailure)
          expect(error.Item).toEqual({ ...key('rvoccf'), ver: n(7) });
        else expect(error.Item).toBeUndefined();
      },
    );
  });
}
