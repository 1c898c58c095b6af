import type { z } from 'zod';
import {
  BadRequestError,
  ConflictError,
  MosaicError,
  NotFoundError,
  ServiceUnavailableError,
} from '../core/errors';
import { audienceExportCompletedEvent } from '../core/events/bus-events';
import type { IdentityConfig } from '../core/identity/identity-config';
import {
  bindParams,
  compileSegment,
  EXPORT_ID,
  exportFolder,
  type LakeTables,
  planExport,
  printPreviewQuery,
  type SegmentAst,
  type TableName,
} from '../core/segments';
import type { CompiledQuery } from '../core/segments/print-sql';
import {
  CreateSegmentRequest,
  ExportRequest,
  type ExportView,
  type PreviewView,
  type SegmentListView,
  type SegmentView,
  UpdateSegmentRequest,
} from '../core/segments/views';
import type {
  AudienceEngine,
  BoundQuery,
  ExportCompletion,
  ExportJob,
  ExportRunner,
} from '../ports/audience-engine';
import type { Clock } from '../ports/clock';
import type { EventBus } from '../ports/event-bus';
import type { Logger } from '../ports/logger';
import type { ExportRecord, SegmentStore, StoredSegment } from '../ports/segment-store';

export interface SegmentsDeps {
  readonly store: SegmentStore;
  readonly engine: AudienceEngine;
  readonly runner: ExportRunner;
  readonly clock: Clock;
  /** Random text for export ids (base36 characters are kept). */
  readonly random: () => string;
  /** The identifier types exports may name. */
  readonly identity: IdentityConfig;
  /** The lake tables the queries read (Glue database + tables in AWS, DuckDB views locally). */
  readonly tables?: LakeTables;
  readonly exportMembers?: TableName;
  /**
   * The columns a destination receives (identifier types and traits), so an export that names it
   * carries them without the caller listing them; `undefined` for a destination that is not
   * configured (the export is refused). Without it, any destination name is recorded as given.
   */
  readonly destinationColumns?: (
    name: string,
  ) => { readonly identifiers: readonly string[]; readonly traits: readonly string[] } | undefined;
  /** How long a preview request waits before answering RUNNING (engines that can run long). */
  readonly previewWaitMs: number;
  readonly logger: Logger;
}

/** Page sizes of `GET /v1/segments`. */
export const LIST_LIMIT = { default: 50, max: 100 } as const;

/** The Segments API's use cases (DESIGN.md "Segments and exports"); see `views.ts` for the shapes. */
export interface Segments {
  create(body: unknown): Promise<SegmentView>;
  list(options: { readonly limit?: number; readonly next?: string }): Promise<SegmentListView>;
  get(id: string): Promise<SegmentView>;
  update(id: string, body: unknown): Promise<SegmentView>;
  remove(id: string): Promise<void>;
  preview(id: string): Promise<PreviewView>;
  previewStatus(previewId: string): Promise<PreviewView>;
  startExport(id: string, body: unknown): Promise<ExportView>;
  getExport(exportId: string): Promise<ExportView>;
}

export function createSegments(deps: SegmentsDeps): Segments {
  const lookup = async (id: string) => (await deps.store.getSegment(id))?.definition;
  const now = () => new Date(deps.clock.now()).toISOString();

  async function existing(id: string): Promise<StoredSegment> {
    const segment = await deps.store.getSegment(id);
    if (segment === undefined) throw new NotFoundError(`No segment "${id.slice(0, 64)}"`);
    return segment;
  }

  /** Compiles a stored segment as it is now (the segments it refers to may have changed). */
  async function compileStored(segment: StoredSegment): Promise<SegmentAst> {
    return compileSegment(segment.definition, { id: segment.id, lookup });
  }

  const bind = (query: CompiledQuery): BoundQuery => ({
    sql: query.sql,
    values: bindParams(query.params, { now: deps.clock.now() }),
  });

  return {
    async create(body) {
      const request = parse(CreateSegmentRequest, body);
      // A new segment can close no cycle (nothing refers to it yet); its references must exist.
      await compileSegment(request.definition, { id: request.id, lookup });
      const at = now();
      const segment: StoredSegment = {
        id: request.id,
        name: request.name,
        ...(request.description === undefined ? {} : { description: request.description }),
        definition: request.definition,
        version: 1,
        createdAt: at,
        updatedAt: at,
      };
      await deps.store.createSegment(segment);
      return segmentView(segment);
    },

    async list(options) {
      const limit = options.limit ?? LIST_LIMIT.default;
      if (!Number.isInteger(limit) || limit < 1 || limit > LIST_LIMIT.max) {
        throw new BadRequestError(`limit must be an integer from 1 to ${LIST_LIMIT.max}`, {
          code: 'invalid_limit',
        });
      }
      const page = await deps.store.listSegments({
        limit,
        ...(options.next === undefined ? {} : { next: options.next }),
      });
      return {
        segments: page.segments.map(segmentView),
        ...(page.next === undefined ? {} : { next: page.next }),
      };
    },

    async get(id) {
      return segmentView(await existing(id));
    },

    async update(id, body) {
      const request = parse(UpdateSegmentRequest, body);
      const current = await existing(id);
      // The new definition must not refer back to this segment through any other.
      await compileSegment(request.definition, {
        id,
        lookup: async (ref) => (ref === id ? request.definition : lookup(ref)),
      });
      const updated = await deps.store.updateSegment(
        {
          ...current,
          name: request.name,
          ...(request.description === undefined
            ? { description: undefined }
            : { description: request.description }),
          definition: request.definition,
          updatedAt: now(),
        },
        current.version,
      );
      return segmentView(updated);
    },

    async remove(id) {
      await existing(id);
      const users = await segmentsReferring(deps.store, id);
      if (users.length > 0) {
        throw new ConflictError(
          `Segment "${id}" is used by ${users.map((user) => `"${user}"`).join(', ')}; change those first`,
          { code: 'segment_in_use' },
        );
      }
      await deps.store.deleteSegment(id);
    },

    async preview(id) {
      const segment = await existing(id);
      const ast = await compileStored(segment);
      const query = printPreviewQuery(ast, deps.engine.dialect, tablesOption(deps.tables));
      const outcome = await deps.engine.preview(bind(query), deps.previewWaitMs);
      await deps.store.putPreview({ previewId: outcome.previewId, segmentId: id, startedAt: now() });
      return { segmentId: id, ...outcome };
    },

    async previewStatus(previewId) {
      const record = /^[A-Za-z0-9_-]{1,128}$/.test(previewId)
        ? await deps.store.getPreview(previewId)
        : undefined;
      const outcome = record === undefined ? undefined : await deps.engine.previewStatus(previewId);
      if (record === undefined || outcome === undefined) {
        throw new NotFoundError(`No preview ${previewId.slice(0, 128)} (previews are kept for a day)`);
      }
      return { segmentId: record.segmentId, ...outcome };
    },

    async startExport(id, body) {
      const request = withDestinationColumns(parse(ExportRequest, body ?? {}), deps.destinationColumns);
      const known = deps.identity.types.map((type) => type.name);
      for (const identifier of request.identifiers) {
        if (!known.includes(identifier)) {
          throw new BadRequestError(
            `Unknown identifier type "${identifier.slice(0, 40)}"; use one of ${known.join(', ')}`,
            { code: 'unknown_identifier_type' },
          );
        }
      }
      const segment = await existing(id);
      const ast = await compileStored(segment);
      const exportId = newExportId(deps.clock.now(), deps.random());
      const previousExportId = segment.lastExport?.exportId;
      let plan: ReturnType<typeof planExport>;
      try {
        plan = planExport(
          ast,
          deps.runner.dialect,
          {
            segmentId: id,
            exportId,
            ...(previousExportId === undefined ? {} : { previousExportId }),
            identifiers: request.identifiers,
            traits: request.traits,
          },
          {
            ...tablesOption(deps.tables),
            ...(deps.exportMembers === undefined ? {} : { exportMembers: deps.exportMembers }),
          },
        );
      } catch (error) {
        if (error instanceof RangeError) {
          throw new BadRequestError(`Bad export columns: ${error.message}`, { code: 'invalid_export' });
        }
        throw error;
      }
      const location = exportFolder(deps.runner.root, id, exportId);
      const record: ExportRecord = {
        exportId,
        segmentId: id,
        segmentVersion: segment.version,
        status: 'RUNNING',
        format: request.format,
        identifiers: request.identifiers,
        traits: request.traits,
        ...(request.destination === undefined ? {} : { destination: request.destination }),
        ...(previousExportId === undefined ? {} : { previousExportId }),
        createdAt: now(),
        location: `${location}/audience/`,
      };
      const job: ExportJob = {
        exportId,
        segmentId: id,
        segmentVersion: segment.version,
        format: request.format,
        ...(request.destination === undefined ? {} : { destination: request.destination }),
        ...(previousExportId === undefined ? {} : { previousExportId }),
        location,
        queries: {
          members: bind(plan.members),
          audience: bind(plan.audience),
          changes: bind(plan.changes),
          counts: bind(plan.counts),
        },
      };
      await deps.store.createExport(record);
      try {
        await deps.runner.start(job);
      } catch (error) {
        const reason = error instanceof Error ? error.message : String(error);
        deps.logger.error('export could not start', { exportId, segmentId: id, error: reason });
        await deps.store.failExport(exportId, `The export could not start: ${reason}`, now());
        // A request the runner refuses (an export too large for the workflow) is the caller's to fix.
        if (error instanceof MosaicError && error.statusCode < 500) throw error;
        throw new ServiceUnavailableError('The export could not start; retry later', { cause: error });
      }
      return exportView(record);
    },

    async getExport(exportId) {
      const record = EXPORT_ID.test(exportId) ? await deps.store.getExport(exportId) : undefined;
      if (record === undefined) throw new NotFoundError(`No export ${exportId.slice(0, 64)}`);
      return exportView(record);
    },
  };
}

/** The request with the columns its destination receives added after those it lists. */
function withDestinationColumns(
  request: ExportRequest,
  columnsOf: SegmentsDeps['destinationColumns'],
): ExportRequest {
  if (request.destination === undefined || columnsOf === undefined) return request;
  const columns = columnsOf(request.destination);
  if (columns === undefined) {
    throw new BadRequestError(`No destination "${request.destination}" is configured`, {
      code: 'unknown_destination',
    });
  }
  const union = (first: readonly string[], second: readonly string[]) => [...new Set([...first, ...second])];
  return {
    ...request,
    identifiers: union(request.identifiers, columns.identifiers),
    traits: union(request.traits, columns.traits),
  };
}

/**
 * A new export id: `x`, the time in base36 (9 digits, sorting in time order until the year 5188),
 * then random base36 — so ids sort by creation time, which `lastExport` relies on.
 */
export function newExportId(nowMs: number, random: string): string {
  const time = Math.max(0, Math.floor(nowMs)).toString(36).padStart(9, '0');
  const tail = random
    .toLowerCase()
    .replace(/[^0-9a-z]/g, '')
    .slice(0, 16)
    .padEnd(12, '0');
  return `x${time}${tail}`;
}

function tablesOption(tables: LakeTables | undefined): { tables?: LakeTables } {
  return tables === undefined ? {} : { tables };
}

/** The ids of the segments whose definitions refer to `id` directly. */
async function segmentsReferring(store: SegmentStore, id: string): Promise<string[]> {
  const users: string[] = [];
  let next: string | undefined;
  do {
    const page = await store.listSegments({ limit: 100, ...(next === undefined ? {} : { next }) });
    for (const segment of page.segments) {
      if (segment.id !== id && refersTo(segment.definition, id)) users.push(segment.id);
    }
    next = page.next;
  } while (next !== undefined);
  return users;
}

function refersTo(definition: unknown, id: string): boolean {
  if (Array.isArray(definition)) return definition.some((item) => refersTo(item, id));
  if (typeof definition !== 'object' || definition === null) return false;
  const record = definition as Record<string, unknown>;
  const segment = record.segment as { id?: unknown } | undefined;
  if (typeof segment === 'object' && segment !== null && segment.id === id) return true;
  return Object.values(record).some((value) => refersTo(value, id));
}

function parse<T extends z.ZodType>(schema: T, body: unknown): z.infer<T> {
  const result = schema.safeParse(body);
  if (result.success) return result.data;
  const error = new BadRequestError(
    result.error.issues.map((issue) => `${issue.path.join('.') || 'body'}: ${issue.message}`).join('; '),
    { code: 'invalid_request' },
  );
  throw Object.assign(error, {
    issues: result.error.issues.map((issue) => ({
      path: issue.path.join('.') || 'body',
      message: issue.message,
    })),
  });
}

export function segmentView(segment: StoredSegment): SegmentView {
  return { ...segment };
}

export function exportView(record: ExportRecord): ExportView {
  return { ...record };
}

export interface ExportCompletionDeps {
  readonly store: SegmentStore;
  readonly bus: EventBus;
  readonly clock: Clock;
  readonly logger: Logger;
}

/**
 * Records an export's outcome as the AWS workflow's last states do: the export item SUCCEEDED with
 * its counts and the segment's `lastExport`, then `Audience Export Completed` on the bus; or the
 * export item FAILED with the reason.
 */
export function createExportCompletion(deps: ExportCompletionDeps): ExportCompletion {
  const now = () => new Date(deps.clock.now()).toISOString();
  return {
    async succeeded(job, result) {
      const completedAt = now();
      await deps.store.completeExport(job.exportId, {
        completedAt,
        count: result.count,
        added: result.added,
        removed: result.removed,
      });
      await deps.bus.publish([
        audienceExportCompletedEvent({
          version: 1,
          exportId: job.exportId,
          segmentId: job.segmentId,
          segmentVersion: job.segmentVersion,
          ...(job.destination === undefined ? {} : { destination: job.destination }),
          format: job.format,
          count: result.count,
          added: result.added,
          removed: result.removed,
          ...(job.previousExportId === undefined ? {} : { previousExportId: job.previousExportId }),
          audienceLocation: result.audienceLocation,
          changesLocation: result.changesLocation,
          membersLocation: result.membersLocation,
          completedAt,
        }),
      ]);
      deps.logger.info('export succeeded', {
        exportId: job.exportId,
        segmentId: job.segmentId,
        count: result.count,
        added: result.added,
        removed: result.removed,
      });
    },
    async failed(job, error) {
      deps.logger.warn('export failed', { exportId: job.exportId, segmentId: job.segmentId, error });
      await deps.store.failExport(job.exportId, error, now());
    },
  };
}
