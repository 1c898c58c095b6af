import { DeleteTableCommand } from '@aws-sdk/client-dynamodb';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DynamoDbSegmentStore } from '../../src/adapters/aws/dynamodb-segment-store';
import { segmentTableDefinition } from '../../src/adapters/aws/segment-table';
import { BadRequestError, ConflictError, NotFoundError } from '../../src/core/errors';
import type { ExportRecord, StoredSegment } from '../../src/ports/segment-store';
import { createActiveTable } from '../support/dynalite';
import { DYNAMODB_ENGINES, uniqueTableName, useEngine } from './dynamodb-engines';

const segment = (id: string, over: Partial<StoredSegment> = {}): StoredSegment => ({
  id,
  name: `Segment ${id}`,
  definition: { trait: { name: 'plan', op: 'eq', value: 'pro' } },
  version: 1,
  createdAt: '2026-11-22T10:00:00.000Z',
  updatedAt: '2026-11-22T10:00:00.000Z',
  ...over,
});

const running = (exportId: string, segmentId = 'pro'): ExportRecord => ({
  exportId,
  segmentId,
  segmentVersion: 1,
  status: 'RUNNING',
  format: 'csv',
  identifiers: ['email'],
  traits: ['plan'],
  createdAt: '2026-11-22T10:00:00.000Z',
  location: `/data/exports/segment_id=${segmentId}/export_id=${exportId}/audience/`,
});

const outcome = (count: number) => ({
  completedAt: '2026-11-22T10:05:00.000Z',
  count,
  added: count,
  removed: 0,
});

// The segment store against dynalite (the local runtime's engine) and DynamoDB Local (AWS semantics).
for (const engine of DYNAMODB_ENGINES) {
  describe(`DynamoDbSegmentStore on ${engine.name}`, () => {
    const db = useEngine(engine);
    let store: DynamoDbSegmentStore;
    let tableName: string;
    let now = Date.parse('2026-11-22T10:00:00Z');

    beforeEach(async () => {
      tableName = uniqueTableName('segments');
      await createActiveTable(db().client, segmentTableDefinition(tableName));
      store = new DynamoDbSegmentStore({ client: db().client, tableName, now: () => now });
    });
    afterEach(async () => {
      await db().client.send(new DeleteTableCommand({ TableName: tableName }));
    });

    it('creates, reads back exactly, and refuses a second segment with the same id', async () => {
      const definition = { all: [{ trait: { name: 'plan', op: 'in', values: ['pro', 'team'] } }] };
      await store.createSegment(segment('pro', { description: 'Paying', definition }));
      expect(await store.getSegment('pro')).toEqual(segment('pro', { description: 'Paying', definition }));
      await expect(store.createSegment(segment('pro'))).rejects.toMatchObject({
        constructor: ConflictError,
        code: 'segment_exists',
      });
      expect(await store.getSegment('missing')).toBeUndefined();
    });

    it('lists in id order, a page at a time, and refuses a token it did not give', async () => {
      for (const id of ['c', 'a', 'e', 'b', 'd']) await store.createSegment(segment(id));
      const ids: string[] = [];
      let next: string | undefined;
      let pages = 0;
      do {
        const page = await store.listSegments({ limit: 2, ...(next === undefined ? {} : { next }) });
        ids.push(...page.segments.map((s) => s.id));
        next = page.next;
        pages += 1;
      } while (next !== undefined && pages < 10);
      expect(ids).toEqual(['a', 'b', 'c', 'd', 'e']);
      await expect(store.listSegments({ limit: 2, next: 'bogus' })).rejects.toBeInstanceOf(BadRequestError);
    });

    it('updates only from the expected version, bumping it; a stale or missing segment is refused', async () => {
      await store.createSegment(segment('pro', { description: 'old' }));
      const updated = await store.updateSegment(
        segment('pro', {
          name: 'Renamed',
          definition: { trait: { name: 'plan', op: 'exists' } },
          updatedAt: 'u1',
        }),
        1,
      );
      expect(updated).toMatchObject({ name: 'Renamed', version: 2, updatedAt: 'u1' });
      // No description given: the old one is removed.
      expect(updated.description).toBeUndefined();
      expect((await store.getSegment('pro'))?.definition).toEqual({ trait: { name: 'plan', op: 'exists' } });
      await expect(store.updateSegment(segment('pro'), 1)).rejects.toMatchObject({
        code: 'version_conflict',
      });
      await expect(store.updateSegment(segment('gone'), 1)).rejects.toBeInstanceOf(NotFoundError);
    });

    it('deletes, saying whether there was a segment', async () => {
      await store.createSegment(segment('pro'));
      expect(await store.deleteSegment('pro')).toBe(true);
      expect(await store.deleteSegment('pro')).toBe(false);
      expect(await store.getSegment('pro')).toBeUndefined();
    });

    it('completes an export once, and makes it the segment’s last export unless a later one is', async () => {
      await store.createSegment(segment('pro'));
      await store.createExport(running('x000000002aaaa'));
      await expect(store.createExport(running('x000000002aaaa'))).rejects.toBeInstanceOf(ConflictError);
      expect(await store.getExport('x000000002aaaa')).toEqual(running('x000000002aaaa'));

      await store.completeExport('x000000002aaaa', outcome(7));
      expect(await store.getExport('x000000002aaaa')).toEqual({
        ...running('x000000002aaaa'),
        status: 'SUCCEEDED',
        ...outcome(7),
      });
      expect((await store.getSegment('pro'))?.lastExport).toEqual({
        exportId: 'x000000002aaaa',
        completedAt: outcome(7).completedAt,
        count: 7,
      });
      // A repeat changes nothing.
      await store.completeExport('x000000002aaaa', outcome(9));
      expect((await store.getExport('x000000002aaaa'))?.count).toBe(7);

      // An earlier export finishing late does not replace the later one as the last.
      await store.createExport(running('x000000001zzzz'));
      await store.completeExport('x000000001zzzz', outcome(3));
      expect((await store.getSegment('pro'))?.lastExport?.exportId).toBe('x000000002aaaa');
      await store.createExport(running('x000000003bbbb'));
      await store.completeExport('x000000003bbbb', outcome(4));
      expect((await store.getSegment('pro'))?.lastExport).toMatchObject({
        exportId: 'x000000003bbbb',
        count: 4,
      });
    });

    it('fails a running export with its reason; a failed export cannot then succeed', async () => {
      await store.createSegment(segment('pro'));
      await store.createExport(running('x000000001aaaa'));
      await store.failExport(
        'x000000001aaaa',
        'Bytes scanned limit was exceeded',
        '2026-11-22T10:01:00.000Z',
      );
      await store.completeExport('x000000001aaaa', outcome(5));
      expect(await store.getExport('x000000001aaaa')).toMatchObject({
        status: 'FAILED',
        error: 'Bytes scanned limit was exceeded',
        completedAt: '2026-11-22T10:01:00.000Z',
      });
      expect((await store.getSegment('pro'))?.lastExport).toBeUndefined();
      await expect(store.completeExport('x000000009none', outcome(1))).rejects.toBeInstanceOf(NotFoundError);
    });

    it('completes an export of a deleted segment without bringing the segment back', async () => {
      await store.createExport(running('x000000001aaaa', 'gone'));
      await store.completeExport('x000000001aaaa', outcome(2));
      expect(await store.getSegment('gone')).toBeUndefined();
      expect((await store.getExport('x000000001aaaa'))?.status).toBe('SUCCEEDED');
    });

    it('keeps a running preview for a day', async () => {
      await store.putPreview({ previewId: 'q-1', segmentId: 'pro', startedAt: '2026-11-22T10:00:00.000Z' });
      expect(await store.getPreview('q-1')).toEqual({
        previewId: 'q-1',
        segmentId: 'pro',
        startedAt: '2026-11-22T10:00:00.000Z',
      });
      now += 86_401_000;
      expect(await store.getPreview('q-1')).toBeUndefined();
      expect(await store.getPreview('q-2')).toBeUndefined();
    });
  });
}
