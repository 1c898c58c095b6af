import {
  DeleteItemCommand,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { BadRequestError, ConflictError, NotFoundError } from '../../core/errors';
import type {
  ExportOutcome,
  ExportRecord,
  PreviewRecord,
  SegmentPage,
  SegmentStore,
  StoredSegment,
} from '../../ports/segment-store';
import { fromAttributes, type NativeItem, toAttributes } from './dynamodb-items';
import { exportKey, previewKey, SEGMENTS_PARTITION, segmentKey } from './segment-table';

export interface DynamoDbSegmentStoreOptions {
  readonly client: DynamoDBClient;
  readonly tableName: string;
  /** How long a running preview's record is kept (TTL). Default a day. */
  readonly previewTtlSeconds?: number;
  /** For the TTL; defaults to the system clock. */
  readonly now?: () => number;
}

const SEGMENT_PREFIX = 'S#';

/**
 * Segments, exports and running previews in one DynamoDB table (layout: `segment-table.ts`). The
 * export workflow in AWS updates export items and `lastExport` itself with the same expressions as
 * {@link completeExport} and {@link failExport}, so the two stay interchangeable. Single-item
 * conditional writes only (dynalite has no transactions).
 */
export class DynamoDbSegmentStore implements SegmentStore {
  private readonly client: DynamoDBClient;
  private readonly table: string;
  private readonly previewTtlSeconds: number;
  private readonly now: () => number;

  constructor(options: DynamoDbSegmentStoreOptions) {
    this.client = options.client;
    this.table = options.tableName;
    this.previewTtlSeconds = options.previewTtlSeconds ?? 86_400;
    this.now = options.now ?? Date.now;
  }

  async createSegment(segment: StoredSegment): Promise<void> {
    try {
      await this.client.send(
        new PutItemCommand({
          TableName: this.table,
          Item: toAttributes({ ...segmentKey(segment.id), ...segmentAttributes(segment) }),
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
    } catch (error) {
      if (isConditionFailure(error)) {
        throw new ConflictError(`A segment with id "${segment.id}" exists`, { code: 'segment_exists' });
      }
      throw error;
    }
  }

  async getSegment(id: string): Promise<StoredSegment | undefined> {
    const item = await this.getItem(segmentKey(id));
    return item === undefined ? undefined : segmentOf(item);
  }

  async listSegments(options: { readonly limit: number; readonly next?: string }): Promise<SegmentPage> {
    const start = options.next === undefined ? undefined : decodeToken(options.next);
    const result = await this.client.send(
      new QueryCommand({
        TableName: this.table,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
        ExpressionAttributeValues: toAttributes({ ':pk': SEGMENTS_PARTITION, ':prefix': SEGMENT_PREFIX }),
        Limit: options.limit,
        ...(start === undefined ? {} : { ExclusiveStartKey: toAttributes(segmentKey(start)) }),
      }),
    );
    const segments = (result.Items ?? []).map((item) => segmentOf(fromAttributes(item)));
    const last =
      result.LastEvaluatedKey === undefined ? undefined : fromAttributes(result.LastEvaluatedKey).sk;
    return {
      segments,
      ...(typeof last === 'string' && segments.length > 0
        ? { next: encodeToken(last.slice(SEGMENT_PREFIX.length)) }
        : {}),
    };
  }

  async updateSegment(segment: StoredSegment, expectedVersion: number): Promise<StoredSegment> {
    const updated: StoredSegment = { ...segment, version: expectedVersion + 1 };
    try {
      await this.client.send(
        new UpdateItemCommand({
          TableName: this.table,
          Key: toAttributes(segmentKey(segment.id)),
          // Every attribute by a placeholder name: `name`, `definition`, `version` and `description`
          // are DynamoDB reserved words.
          UpdateExpression:
            segment.description === undefined
              ? 'SET #name = :name, #definition = :definition, #version = :next, #updatedAt = :updatedAt REMOVE #description'
              : 'SET #name = :name, #description = :description, #definition = :definition, #version = :next, #updatedAt = :updatedAt',
          ConditionExpression: 'attribute_exists(pk) AND #version = :expected',
          ExpressionAttributeNames: {
            '#name': 'name',
            '#description': 'description',
            '#definition': 'definition',
            '#version': 'version',
            '#updatedAt': 'updatedAt',
          },
          ExpressionAttributeValues: toAttributes({
            ':name': segment.name,
            ':definition': JSON.stringify(segment.definition),
            ':next': updated.version,
            ':updatedAt': segment.updatedAt,
            ':expected': expectedVersion,
            ...(segment.description === undefined ? {} : { ':description': segment.description }),
          }),
          ReturnValues: 'ALL_NEW',
        }),
      );
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
      const current = await this.getSegment(segment.id);
      if (current === undefined) throw new NotFoundError(`No segment "${segment.id}"`);
      throw new ConflictError(
        `Segment "${segment.id}" is at version ${current.version}, not ${expectedVersion}; read it again and retry`,
        { code: 'version_conflict' },
      );
    }
    const stored = await this.getSegment(segment.id);
    return stored ?? updated;
  }

  async deleteSegment(id: string): Promise<boolean> {
    const { Attributes } = await this.client.send(
      new DeleteItemCommand({
        TableName: this.table,
        Key: toAttributes(segmentKey(id)),
        ReturnValues: 'ALL_OLD',
      }),
    );
    return Attributes !== undefined;
  }

  async createExport(record: ExportRecord): Promise<void> {
    try {
      await this.client.send(
        new PutItemCommand({
          TableName: this.table,
          Item: toAttributes({ ...exportKey(record.exportId), ...record }),
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
    } catch (error) {
      if (isConditionFailure(error)) {
        throw new ConflictError(`Export ${record.exportId} exists`, { code: 'export_exists' });
      }
      throw error;
    }
  }

  async getExport(exportId: string): Promise<ExportRecord | undefined> {
    const item = await this.getItem(exportKey(exportId));
    if (item === undefined) return undefined;
    // Written from an ExportRecord by createExport, then updated by completeExport / failExport.
    const { pk: _pk, sk: _sk, ...record } = item;
    return record as unknown as ExportRecord;
  }

  async completeExport(exportId: string, outcome: ExportOutcome): Promise<void> {
    let segmentId: string;
    try {
      const { Attributes } = await this.client.send(
        new UpdateItemCommand({
          TableName: this.table,
          Key: toAttributes(exportKey(exportId)),
          UpdateExpression:
            'SET #status = :succeeded, completedAt = :completedAt, #count = :count, added = :added, removed = :removed',
          ConditionExpression: '#status = :running',
          ExpressionAttributeNames: { '#status': 'status', '#count': 'count' },
          ExpressionAttributeValues: toAttributes({
            ':succeeded': 'SUCCEEDED',
            ':running': 'RUNNING',
            ':completedAt': outcome.completedAt,
            ':count': outcome.count,
            ':added': outcome.added,
            ':removed': outcome.removed,
          }),
          ReturnValues: 'ALL_NEW',
        }),
      );
      segmentId = String(Attributes === undefined ? undefined : fromAttributes(Attributes).segmentId);
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
      // Already completed (a repeat) or failed: nothing changes; the segment's lastExport was set
      // by the completion that won, if it succeeded.
      const current = await this.getExport(exportId);
      if (current === undefined) throw new NotFoundError(`No export ${exportId}`);
      if (current.status !== 'SUCCEEDED') return;
      segmentId = current.segmentId;
    }
    try {
      await this.client.send(
        new UpdateItemCommand({
          TableName: this.table,
          Key: toAttributes(segmentKey(segmentId)),
          UpdateExpression: 'SET lastExport = :last',
          ConditionExpression:
            'attribute_exists(pk) AND (attribute_not_exists(lastExport) OR lastExport.exportId < :exportId)',
          ExpressionAttributeValues: toAttributes({
            ':last': { exportId, completedAt: outcome.completedAt, count: outcome.count },
            ':exportId': exportId,
          }),
        }),
      );
    } catch (error) {
      // The segment is gone, or a later export is already its last: both fine.
      if (!isConditionFailure(error)) throw error;
    }
  }

  async failExport(exportId: string, error: string, completedAt: string): Promise<void> {
    try {
      await this.client.send(
        new UpdateItemCommand({
          TableName: this.table,
          Key: toAttributes(exportKey(exportId)),
          UpdateExpression: 'SET #status = :failed, completedAt = :completedAt, #error = :error',
          ConditionExpression: '#status = :running',
          ExpressionAttributeNames: { '#status': 'status', '#error': 'error' },
          ExpressionAttributeValues: toAttributes({
            ':failed': 'FAILED',
            ':running': 'RUNNING',
            ':completedAt': completedAt,
            ':error': error.slice(0, 2000),
          }),
        }),
      );
    } catch (failure) {
      if (!isConditionFailure(failure)) throw failure;
    }
  }

  async putPreview(record: PreviewRecord): Promise<void> {
    await this.client.send(
      new PutItemCommand({
        TableName: this.table,
        Item: toAttributes({
          ...previewKey(record.previewId),
          ...record,
          expiresAt: Math.floor(this.now() / 1000) + this.previewTtlSeconds,
        }),
      }),
    );
  }

  async getPreview(previewId: string): Promise<PreviewRecord | undefined> {
    const preview = await this.getItem(previewKey(previewId));
    if (preview === undefined) return undefined;
    // DynamoDB deletes expired items within days, not at once: an expired one is gone already.
    if (Number(preview.expiresAt) * 1000 < this.now()) return undefined;
    return {
      previewId: String(preview.previewId),
      segmentId: String(preview.segmentId),
      startedAt: String(preview.startedAt),
    };
  }

  /** An item by key, strongly consistent. */
  private async getItem(key: NativeItem): Promise<NativeItem | undefined> {
    const { Item } = await this.client.send(
      new GetItemCommand({ TableName: this.table, Key: toAttributes(key), ConsistentRead: true }),
    );
    return Item === undefined ? undefined : fromAttributes(Item);
  }
}

function segmentAttributes(segment: StoredSegment) {
  return {
    id: segment.id,
    name: segment.name,
    description: segment.description,
    definition: JSON.stringify(segment.definition),
    version: segment.version,
    createdAt: segment.createdAt,
    updatedAt: segment.updatedAt,
    lastExport: segment.lastExport,
  };
}

function segmentOf(item: NativeItem): StoredSegment {
  const lastExport = item.lastExport as StoredSegment['lastExport'] | undefined;
  return {
    id: String(item.id),
    name: String(item.name),
    ...(typeof item.description === 'string' ? { description: item.description } : {}),
    definition: JSON.parse(String(item.definition)) as unknown,
    version: Number(item.version),
    createdAt: String(item.createdAt),
    updatedAt: String(item.updatedAt),
    ...(lastExport === undefined
      ? {}
      : {
          lastExport: {
            exportId: String(lastExport.exportId),
            completedAt: String(lastExport.completedAt),
            count: Number(lastExport.count),
          },
        }),
  };
}

/** A page token: the last segment id, base64url — opaque to callers, checked when it comes back. */
function encodeToken(segmentId: string): string {
  return Buffer.from(JSON.stringify({ after: segmentId })).toString('base64url');
}
function decodeToken(token: string): string {
  try {
    const parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as { after?: unknown };
    if (typeof parsed.after === 'string' && parsed.after.length > 0 && parsed.after.length <= 64) {
      return parsed.after;
    }
  } catch {
    // reported below
  }
  throw new BadRequestError('The page token is not one this API gave', { code: 'invalid_page_token' });
}

function isConditionFailure(error: unknown): boolean {
  return (error as { name?: string } | null)?.name === 'ConditionalCheckFailedException';
}
