import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ExportView, PreviewView, SegmentListView, SegmentView } from '../../src/core/segments/views';

/**
 * A fake Segments API (core/segments/views.ts) on a real socket, with its state in memory, for the
 * `mosaic segments` tests. Every answer is JSON indented by one space, so a CLI that re-serialised
 * the API's JSON instead of printing it as it came would be caught.
 *
 * Segments whose id says so behave specially:
 * - `slow-*`: the preview answers 202 (RUNNING, Location) twice — the POST and the first GET — then 200.
 * - `forever-*`: the preview and the export never finish.
 * - `broken-*`: the preview answers 200 FAILED.
 * - `doomed-*`: the export ends FAILED (RUNNING on the first GET, FAILED on the second).
 * Any other export is RUNNING on the POST and the first GET, SUCCEEDED on the second GET.
 */

export const ADMIN_KEY = 'segments-test-admin-key';
const NOW = '2026-11-22T21:00:00.000Z';
const DONE = '2026-11-22T21:00:05.000Z';
/** The page size when `?limit=` is not given. */
export const DEFAULT_PAGE = 50;

export interface RecordedRequest {
  readonly method: string;
  readonly path: string;
  readonly query: URLSearchParams;
  readonly body: unknown;
}

export interface RecordedResponse {
  readonly method: string;
  readonly path: string;
  readonly status: number;
  readonly body: string;
  readonly location?: string;
}

interface PreviewJob {
  view: PreviewView;
  /** GETs still answered 202. */
  runningPolls: number;
  final: PreviewView;
}

interface ExportJob {
  view: ExportView;
  polls: number;
}

export interface FakeSegmentsApi {
  readonly url: string;
  readonly segments: Map<string, SegmentView>;
  readonly requests: RecordedRequest[];
  readonly responses: RecordedResponse[];
  /** The last answer to `METHOD /path` (exactly the text sent). */
  lastBody(method: string, path: string): string;
  close(): Promise<void>;
}

export function segmentView(id: string, overrides: Partial<SegmentView> = {}): SegmentView {
  return {
    id,
    name: `Segment ${id}`,
    definition: { trait: { name: 'plan', op: 'eq', value: 'pro' } },
    version: 1,
    createdAt: NOW,
    updatedAt: NOW,
    ...overrides,
  };
}

/** What the fake "compiler" refuses: a trait condition whose op is not one of these. */
const OPS = ['eq', 'neq', 'exists', 'not_exists', 'gt', 'lt'];

function definitionIssues(definition: unknown): { path: string; message: string }[] {
  const issues: { path: string; message: string }[] = [];
  const visit = (node: unknown, path: string) => {
    if (typeof node !== 'object' || node === null) {
      issues.push({ path, message: 'expected a condition object' });
      return;
    }
    const record = node as Record<string, unknown>;
    if (Array.isArray(record.all)) {
      for (const [i, child] of record.all.entries()) visit(child, `${path}.all[${i}]`);
    } else if (typeof record.trait === 'object' && record.trait !== null) {
      const op = (record.trait as Record<string, unknown>).op;
      if (!OPS.includes(String(op)))
        issues.push({
          path: `${path}.trait.op`,
          message: `Invalid option: expected one of ${OPS.map((o) => `"${o}"`).join('|')}`,
        });
    } else issues.push({ path, message: 'expected one of all, trait' });
  };
  visit(definition, 'definition');
  return issues;
}

export async function startFakeSegmentsApi(): Promise<FakeSegmentsApi> {
  const segments = new Map<string, SegmentView>();
  const previews = new Map<string, PreviewJob>();
  const exports = new Map<string, ExportJob>();
  const requests: RecordedRequest[] = [];
  const responses: RecordedResponse[] = [];
  let sequence = 0;

  const server = createServer((req, res) => {
    void handle(req, res).catch((error: unknown) => {
      res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(String(error));
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse) {
    const url = new URL(req.url ?? '/', 'http://fake');
    const method = req.method ?? 'GET';
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    const body = text === '' ? undefined : (JSON.parse(text) as unknown);
    requests.push({ method, path: url.pathname, query: url.searchParams, body });

    const send = (status: number, payload: unknown, location?: string) => {
      const json = payload === undefined ? '' : JSON.stringify(payload, null, 1);
      responses.push({ method, path: url.pathname, status, body: json, ...(location ? { location } : {}) });
      res.writeHead(status, {
        ...(payload === undefined ? {} : { 'content-type': 'application/json' }),
        ...(location === undefined ? {} : { location }),
      });
      res.end(json);
    };
    const fail = (status: number, code: string, message: string, issues?: unknown[]) =>
      send(status, { success: false, error: { code, message, ...(issues ? { issues } : {}) } });

    if (req.headers.authorization !== `Bearer ${ADMIN_KEY}`) return fail(403, 'forbidden', 'Forbidden');
    const parts = url.pathname.split('/').slice(1).map(decodeURIComponent);
    if (parts[0] !== 'v1') return send(404, { message: 'Not Found' });

    if (parts[1] === 'segments' && parts.length === 2) {
      if (method === 'POST') {
        const input = body as { id: string; name: string; description?: string; definition: unknown };
        if (segments.has(input.id))
          return fail(409, 'segment_exists', `A segment with the id ${input.id} exists`);
        const issues = definitionIssues(input.definition);
        if (issues.length > 0)
          return fail(
            400,
            'invalid_segment',
            issues.map((issue) => `${issue.path}: ${issue.message}`).join('; '),
            issues,
          );
        const view = segmentView(input.id, {
          name: input.name,
          definition: input.definition,
          ...(input.description === undefined ? {} : { description: input.description }),
        });
        segments.set(view.id, view);
        return send(201, view);
      }
      if (method === 'GET') {
        const limit = Number(url.searchParams.get('limit') ?? DEFAULT_PAGE);
        const after = url.searchParams.get('next');
        const ids = [...segments.keys()].sort().filter((id) => after === null || id > after);
        const page = ids.slice(0, limit);
        const list: SegmentListView = {
          segments: page.map((id) => segments.get(id) as SegmentView),
          ...(ids.length > limit ? { next: page[page.length - 1] } : {}),
        };
        return send(200, list);
      }
    }

    if (parts[1] === 'segments' && parts[2] !== undefined) {
      const id = parts[2];
      const segment = segments.get(id);
      if (segment === undefined) return fail(404, 'segment_not_found', `No segment has the id ${id}`);
      if (parts.length === 3) {
        if (method === 'GET') return send(200, segment);
        if (method === 'DELETE') {
          segments.delete(id);
          return send(204, undefined);
        }
        if (method === 'PUT') {
          const input = body as { name: string; description?: string; definition: unknown };
          const issues = definitionIssues(input.definition);
          if (issues.length > 0)
            return fail(
              400,
              'invalid_segment',
              issues.map((i) => `${i.path}: ${i.message}`).join('; '),
              issues,
            );
          const { description: _old, ...rest } = segment;
          const view: SegmentView = {
            ...rest,
            name: input.name,
            definition: input.definition,
            ...(input.description === undefined ? {} : { description: input.description }),
            version: segment.version + 1,
            updatedAt: DONE,
          };
          segments.set(id, view);
          return send(200, view);
        }
      }
      if (parts[3] === 'preview' && method === 'POST') {
        const previewId = `pv-${++sequence}`;
        const final: PreviewView = id.startsWith('broken-')
          ? { previewId, segmentId: id, status: 'FAILED', error: 'Query exhausted resources at this scale' }
          : {
              previewId,
              segmentId: id,
              status: 'SUCCEEDED',
              count: 1234,
              sample: ['p_01', 'p_02', 'p_03'],
              ...(id.startsWith('slow-') ? { bytesScanned: 12_345_678 } : {}),
              elapsedMs: 3400,
            };
        if (!id.startsWith('slow-') && !id.startsWith('forever-')) return send(200, final);
        const running: PreviewView = { previewId, segmentId: id, status: 'RUNNING' };
        previews.set(previewId, {
          view: running,
          runningPolls: id.startsWith('forever-') ? Number.POSITIVE_INFINITY : 1,
          final,
        });
        return send(202, running, `/v1/previews/${previewId}`);
      }
      if (parts[3] === 'exports' && method === 'POST') {
        const input = (body ?? {}) as {
          format?: 'csv' | 'parquet';
          identifiers?: string[];
          traits?: string[];
          destination?: string;
        };
        const exportId = `exp-${++sequence}`;
        const view: ExportView = {
          exportId,
          segmentId: id,
          segmentVersion: segment.version,
          status: 'RUNNING',
          format: input.format ?? 'csv',
          identifiers: input.identifiers ?? [],
          traits: input.traits ?? [],
          ...(input.destination === undefined ? {} : { destination: input.destination }),
          createdAt: NOW,
          location: `s3://mosaic-exports/${id}/${exportId}/`,
        };
        exports.set(exportId, { view, polls: 0 });
        return send(202, view, `/v1/exports/${exportId}`);
      }
    }

    if (parts[1] === 'previews' && parts[2] !== undefined && method === 'GET') {
      const job = previews.get(parts[2]);
      if (job === undefined) return fail(404, 'preview_not_found', 'No such preview');
      if (job.runningPolls > 0) {
        job.runningPolls--;
        return send(202, job.view);
      }
      return send(200, job.final);
    }

    if (parts[1] === 'exports' && parts[2] !== undefined && method === 'GET') {
      const job = exports.get(parts[2]);
      if (job === undefined) return fail(404, 'export_not_found', `No export has the id ${parts[2]}`);
      job.polls++;
      if (job.polls >= 2 && job.view.status === 'RUNNING' && !job.view.segmentId.startsWith('forever-')) {
        job.view = job.view.segmentId.startsWith('doomed-')
          ? { ...job.view, status: 'FAILED', completedAt: DONE, error: 'Athena: HIVE_BAD_DATA in events' }
          : {
              ...job.view,
              status: 'SUCCEEDED',
              completedAt: DONE,
              count: 1200,
              added: 1200,
              removed: 0,
            };
      }
      return send(200, job.view);
    }
    return send(404, { message: 'Not Found' });
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    segments,
    requests,
    responses,
    lastBody(method, path) {
      const found = responses.findLast((r) => r.method === method && r.path === path);
      if (found === undefined) throw new Error(`no answer to ${method} ${path}`);
      return found.body;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
