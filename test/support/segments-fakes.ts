import { BadRequestError, ConflictError, NotFoundError } from '../../src/core/errors';
import type {
  AudienceEngine,
  BoundQuery,
  ExportJob,
  ExportRunner,
  PreviewOutcome,
} from '../../src/ports/audience-engine';
import type {
  ExportOutcome,
  ExportRecord,
  PreviewRecord,
  SegmentPage,
  SegmentStore,
  StoredSegment,
} from '../../src/ports/segment-store';

/** The segment store's in-memory twin, with the DynamoDB adapter's semantics (see its contract test). */
export class MemorySegmentStore implements SegmentStore {
  readonly segments = new Map<string, StoredSegment>();
  readonly exports = new Map<string, ExportRecord>();
  readonly previews = new Map<string, PreviewRecord>();

  async createSegment(segment: StoredSegment): Promise<void> {
    if (this.segments.has(segment.id)) throw new ConflictError('exists', { code: 'segment_exists' });
    this.segments.set(segment.id, structuredClone(segment));
  }
  async getSegment(id: string): Promise<StoredSegment | undefined> {
    const segment = this.segments.get(id);
    return segment === undefined ? undefined : structuredClone(segment);
  }
  async listSegments(options: { limit: number; next?: string }): Promise<SegmentPage> {
    if (options.next !== undefined && !options.next.startsWith('after:'))
      throw new BadRequestError('bad token');
    const after = options.next?.slice('after:'.length) ?? '';
    const ids = [...this.segments.keys()].sort().filter((id) => id > after);
    const page = ids.slice(0, options.limit);
    const last = page.at(-1);
    return {
      segments: page.map((id) => structuredClone(this.segments.get(id) as StoredSegment)),
      ...(ids.length > options.limit && last !== undefined ? { next: `after:${last}` } : {}),
    };
  }
  async updateSegment(segment: StoredSegment, expectedVersion: number): Promise<StoredSegment> {
    const current = this.segments.get(segment.id);
    if (current === undefined) throw new NotFoundError('gone');
    if (current.version !== expectedVersion) throw new ConflictError('stale', { code: 'version_conflict' });
    const { description, ...rest } = segment;
    const updated: StoredSegment = {
      ...rest,
      ...(description === undefined ? {} : { description }),
      version: expectedVersion + 1,
      ...(current.lastExport === undefined ? {} : { lastExport: current.lastExport }),
    };
    this.segments.set(segment.id, updated);
    return structuredClone(updated);
  }
  async deleteSegment(id: string): Promise<boolean> {
    return this.segments.delete(id);
  }
  async createExport(record: ExportRecord): Promise<void> {
    if (this.exports.has(record.exportId)) throw new ConflictError('exists');
    this.exports.set(record.exportId, structuredClone(record));
  }
  async getExport(exportId: string): Promise<ExportRecord | undefined> {
    const record = this.exports.get(exportId);
    return record === undefined ? undefined : structuredClone(record);
  }
  async completeExport(exportId: string, outcome: ExportOutcome): Promise<void> {
    const record = this.exports.get(exportId);
    if (record === undefined) throw new NotFoundError('no export');
    if (record.status !== 'RUNNING') return;
    this.exports.set(exportId, { ...record, status: 'SUCCEEDED', ...outcome });
    const segment = this.segments.get(record.segmentId);
    if (
      segment !== undefined &&
      (segment.lastExport === undefined || segment.lastExport.exportId < exportId)
    ) {
      this.segments.set(segment.id, {
        ...segment,
        lastExport: { exportId, completedAt: outcome.completedAt, count: outcome.count },
      });
    }
  }
  async failExport(exportId: string, error: string, completedAt: string): Promise<void> {
    const record = this.exports.get(exportId);
    if (record?.status !== 'RUNNING') return;
    this.exports.set(exportId, { ...record, status: 'FAILED', error, completedAt });
  }
  async putPreview(record: PreviewRecord): Promise<void> {
    this.previews.set(record.previewId, { ...record });
  }
  async getPreview(previewId: string): Promise<PreviewRecord | undefined> {
    return this.previews.get(previewId);
  }
}

/** An engine that answers what the test scripts and records the queries it was given. */
export class ScriptedAudienceEngine implements AudienceEngine {
  readonly queries: BoundQuery[] = [];
  readonly waits: number[] = [];
  readonly outcomes = new Map<string, PreviewOutcome>();
  next: (query: BoundQuery) => PreviewOutcome = () => ({
    status: 'SUCCEEDED',
    previewId: `q${this.queries.length}`,
    count: 0,
    sample: [],
    elapsedMs: 1,
  });

  constructor(readonly dialect: 'athena' | 'duckdb' = 'duckdb') {}

  async preview(query: BoundQuery, waitMs: number): Promise<PreviewOutcome> {
    this.queries.push(query);
    this.waits.push(waitMs);
    const outcome = this.next(query);
    this.outcomes.set(outcome.previewId, outcome);
    return outcome;
  }
  async previewStatus(previewId: string): Promise<PreviewOutcome | undefined> {
    return this.outcomes.get(previewId);
  }
}

/** A runner that records the jobs it was asked to start (and can be told to refuse). */
export class RecordingExportRunner implements ExportRunner {
  readonly jobs: ExportJob[] = [];
  failWith: Error | undefined;
  constructor(
    readonly dialect: 'athena' | 'duckdb' = 'duckdb',
    readonly root = '/data/exports',
  ) {}
  async start(job: ExportJob): Promise<void> {
    if (this.failWith !== undefined) throw this.failWith;
    this.jobs.push(job);
  }
}
