import { readFile } from 'node:fs/promises';
import { type Command, InvalidArgumentError, Option } from 'commander';
import type { z } from 'zod';
import { SegmentId } from '../../core/segments/definition';
import {
  CreateSegmentRequest,
  EXPORT_FORMATS,
  ExportRequest,
  type ExportRequestInput,
  type SegmentView,
  UpdateSegmentRequest,
} from '../../core/segments/views';
import { ApiProtocolError, exportPath, previewPath } from '../api-client';
import { parseLimit } from '../arguments';
import type { CliIo, CommandContext } from '../context';
import { clean } from '../format';
import { formatExport, formatPreview, formatSegment, formatSegmentList } from '../format-segments';
import { clockOf, JobFailedError, progressFor, waitBudget, waitForJob } from '../jobs';
import { UsageError } from '../usage-error';
import { DEFAULT_EXPORT_WAIT_MS, failedExport, finishExport } from './exports';

/** The whole of a preview's wait when `--timeout` is not given (an Athena query can outlive 10 s). */
export const DEFAULT_PREVIEW_WAIT_MS = 120_000;

/** Most pages `list --all` follows, so a server that keeps naming a next page cannot loop it forever. */
const MAX_PAGES = 1000;

const FILE_HELP = 'a JSON file {id, name, description?, definition}; - reads stdin';

/**
 * `mosaic segments create | list | show | update | delete | preview | export`: the Segments API
 * (core/segments/views.ts, docs/cli.md).
 */
export function registerSegments(program: Command, context: CommandContext): void {
  const { io } = context;
  const segments = program
    .command('segments')
    .description('define audiences, preview them and export them through the Segments API')
    .addHelpText(
      'after',
      `
Examples:
  mosaic segments create -f pro-buyers.json
  cat pro-buyers.json | mosaic segments create -f - --id pro-buyers-eu --name "Pro buyers (EU)"
  mosaic segments list --all
  mosaic segments preview pro-buyers
  mosaic segments export pro-buyers --identifier email --trait plan --wait
  mosaic --json segments show pro-buyers > pro-buyers.json   # edit, then: segments update pro-buyers -f pro-buyers.json
`,
    );

  segments
    .command('create')
    .description('create a segment from a JSON file and print it')
    .requiredOption('-f, --file <path>', FILE_HELP)
    .option('--id <id>', "the segment's id, instead of the file's", parseSegmentId)
    .option('--name <name>', "the segment's name, instead of the file's")
    .action(async (options: { file: string; id?: string; name?: string }, command: Command) => {
      const fields = serverFieldsDropped(await readJson(options.file, io), options.file);
      if (options.id !== undefined) fields.id = options.id;
      if (options.name !== undefined) fields.name = options.name;
      const body = parseFile(CreateSegmentRequest, fields, options.file);
      const { api, print } = context.connect(command);
      print(await api.createSegment(body), formatSegment);
    });

  segments
    .command('list')
    .description('the segments, a page at a time (--all: every page)')
    .option('--limit <n>', 'segments per page (the API sets the default and the maximum)', parseLimit)
    .option('--next <token>', 'the page a previous list named')
    .option('--all', 'follow the pages to the last one (with --json: one {"segments": [...]} of them all)')
    .action(async (options: { limit?: number; next?: string; all?: boolean }, command: Command) => {
      const { api, print, settings } = context.connect(command);
      if (options.all !== true) {
        const page = await api.listSegments({ limit: options.limit, next: options.next });
        print(page, (data) => formatSegmentList(data.segments));
        if (page.data.next !== undefined && !settings.json)
          io.stderr(
            `mosaic: more segments follow: --all lists them all, or --next ${clean(page.data.next)}\n`,
          );
        return;
      }
      const all: SegmentView[] = [];
      const seen = new Set<string>();
      let next = options.next;
      for (let pages = 1; ; pages++) {
        const page = await api.listSegments({ limit: options.limit, next });
        all.push(...page.data.segments);
        next = page.data.next;
        if (next === undefined) break;
        if (seen.has(next) || pages === MAX_PAGES)
          throw new ApiProtocolError(
            `${api.baseUrl}/v1/segments`,
            page.status,
            `The segment list does not end: the API named a next page ${seen.has(next) ? 'twice' : `after ${MAX_PAGES} pages`}`,
          );
        seen.add(next);
      }
      io.stdout(settings.json ? `${JSON.stringify({ segments: all })}\n` : formatSegmentList(all));
    });

  segments
    .command('show')
    .description('a segment: name, version, last export and definition')
    .argument('<id>', 'the segment id', parseSegmentId)
    .action(async (id: string, _options: unknown, command: Command) => {
      const { api, print } = context.connect(command);
      print(await api.segment(id), formatSegment);
    });

  segments
    .command('update')
    .description("replace a segment's name, description and definition from a JSON file")
    .argument('<id>', 'the segment id', parseSegmentId)
    .requiredOption('-f, --file <path>', `${FILE_HELP} (its id, if any, must be <id>)`)
    .option('--name <name>', "the segment's name, instead of the file's")
    .action(async (id: string, options: { file: string; name?: string }, command: Command) => {
      const fields = serverFieldsDropped(await readJson(options.file, io), options.file);
      if (fields.id !== undefined && fields.id !== id)
        throw new UsageError(
          `${sourceName(options.file)} is segment ${JSON.stringify(fields.id)}, not ${id}: remove its "id" or update that one`,
        );
      delete fields.id;
      if (options.name !== undefined) fields.name = options.name;
      const body = parseFile(UpdateSegmentRequest, fields, options.file);
      const { api, print } = context.connect(command);
      print(await api.updateSegment(id, body), formatSegment);
    });

  segments
    .command('delete')
    .description('delete a segment (the API refuses while another segment refers to it)')
    .argument('<id>', 'the segment id', parseSegmentId)
    .action(async (id: string, _options: unknown, command: Command) => {
      const { api, settings } = context.connect(command);
      await api.deleteSegment(id);
      // 204 has no JSON to print: with --json, stdout stays empty and the exit code says it worked.
      if (!settings.json) io.stdout(`Deleted segment ${id}\n`);
    });

  segments
    .command('preview')
    .description(
      `count the members and show a sample, waiting while the query runs (--timeout: the whole wait; default ${DEFAULT_PREVIEW_WAIT_MS / 1000} s)`,
    )
    .argument('<id>', 'the segment id', parseSegmentId)
    .action(async (id: string, _options: unknown, command: Command) => {
      const connection = context.connect(command);
      const { api } = connection;
      const clock = clockOf(io);
      const startedAt = clock.now();
      const budgetMs = waitBudget(command, connection, DEFAULT_PREVIEW_WAIT_MS);
      const first = await api.previewSegment(id, { timeoutMs: budgetMs });
      const path = api.followPath(first.location) ?? previewPath(first.data.previewId);
      const done = await waitForJob({
        first,
        poll: (timeoutMs) => api.previewAt(path, { timeoutMs }),
        label: `preview of segment ${id}`,
        startedAt,
        budgetMs,
        clock,
        progress: progressFor(io, connection),
        timeoutHint: `allow longer with --timeout SECONDS (at most 600); the preview ${first.data.previewId} runs on at ${path}.`,
      });
      if (done.data.status === 'FAILED') {
        if (connection.settings.json) connection.print(done, () => '');
        throw new JobFailedError(
          'preview_failed',
          `the preview of segment ${id} failed: ${done.data.error ?? 'the API gave no reason'}`,
        );
      }
      connection.print(done, (view) => formatPreview(view, clock.now() - startedAt));
    });

  segments
    .command('export')
    .description(
      'write the members to files (the API answers at once; --wait follows the export until it is done)',
    )
    .argument('<id>', 'the segment id', parseSegmentId)
    .addOption(new Option('--format <format>', 'the files (the API defaults to csv)').choices(EXPORT_FORMATS))
    .option('--identifier <type>', 'an identifier column beside profile_id (repeat for more)', collect)
    .option('--trait <name>', 'a trait column (repeat for more)', collect)
    .option('--destination <name>', 'the destination the export is for')
    .option(
      '--wait',
      `wait until it is done and print its counts (--timeout: the whole wait; default ${DEFAULT_EXPORT_WAIT_MS / 1000} s)`,
    )
    .action(
      async (
        id: string,
        options: {
          format?: (typeof EXPORT_FORMATS)[number];
          identifier?: string[];
          trait?: string[];
          destination?: string;
          wait?: boolean;
        },
        command: Command,
      ) => {
        const body: ExportRequestInput = {
          ...(options.format === undefined ? {} : { format: options.format }),
          ...(options.identifier === undefined ? {} : { identifiers: options.identifier }),
          ...(options.trait === undefined ? {} : { traits: options.trait }),
          ...(options.destination === undefined ? {} : { destination: options.destination }),
        };
        const checked = ExportRequest.safeParse(body);
        if (!checked.success)
          throw new UsageError(describeIssues('export options', checked.error, optionName));
        const connection = context.connect(command);
        const { api } = connection;
        const clock = clockOf(io);
        const startedAt = clock.now();
        if (options.wait !== true) {
          const started = await api.exportSegment(id, body);
          if (started.data.status === 'FAILED') failedExport(started, connection);
          connection.print(started, formatExport);
          if (started.data.status === 'RUNNING' && !connection.settings.json)
            io.stderr(
              `mosaic: the export runs on; follow it with \`mosaic exports show ${started.data.exportId} --wait\`\n`,
            );
          return;
        }
        const budgetMs = waitBudget(command, connection, DEFAULT_EXPORT_WAIT_MS);
        const started = await api.exportSegment(id, body, { timeoutMs: budgetMs });
        const path = api.followPath(started.location) ?? exportPath(started.data.exportId);
        await finishExport(started, path, { connection, io, clock, startedAt, budgetMs });
      },
    );
}

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

function parseSegmentId(text: string): string {
  if (!SegmentId.safeParse(text).success)
    throw new InvalidArgumentError('Expected a segment id: letters, digits, _ and -, at most 64.');
  return text;
}

const sourceName = (path: string) => (path === '-' ? 'stdin' : path);

/** The file's JSON (or stdin's, for `-`); unreadable or not JSON is a usage error naming it. */
async function readJson(path: string, io: CliIo): Promise<unknown> {
  let text: string;
  if (path === '-') {
    if (io.readStdin === undefined) throw new UsageError('-f -: there is no standard input to read');
    text = await io.readStdin();
  } else {
    try {
      text = await readFile(path, 'utf8');
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      const why =
        code === 'ENOENT'
          ? 'no such file'
          : code === 'EISDIR'
            ? 'a directory, not a file'
            : code === 'EACCES'
              ? 'not readable (permission denied)'
              : (error as Error).message;
      throw new UsageError(`-f ${path}: ${why}`);
    }
  }
  if (text.trim() === '') throw new UsageError(`${sourceName(path)}: empty, expected a JSON object`);
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new UsageError(`${sourceName(path)}: not JSON (${(error as Error).message})`);
  }
}

/**
 * The file's fields without those the API sets (`version`, `createdAt`, `updatedAt`, `lastExport`), so
 * the JSON of `mosaic --json segments show` can be edited and sent back as it is.
 */
function serverFieldsDropped(data: unknown, path: string): Record<string, unknown> {
  if (typeof data !== 'object' || data === null || Array.isArray(data))
    throw new UsageError(
      `${sourceName(path)}: expected a JSON object {id, name, description?, definition}, not ${Array.isArray(data) ? 'an array' : JSON.stringify(data)}`,
    );
  const {
    version: _v,
    createdAt: _c,
    updatedAt: _u,
    lastExport: _l,
    ...fields
  } = data as Record<string, unknown>;
  return fields;
}

/** The request the file describes, or a usage error listing each bad field with its path. */
function parseFile<S extends z.ZodType>(schema: S, fields: unknown, path: string): z.output<S> {
  const parsed = schema.safeParse(fields);
  if (parsed.success) return parsed.data;
  throw new UsageError(describeIssues(sourceName(path), parsed.error, (key) => key));
}

function describeIssues(what: string, error: z.ZodError, name: (path: string) => string): string {
  return [
    `${what}: not a valid request`,
    ...error.issues.map((issue) => {
      const path = issue.path.map(String).join('.');
      return `  ${path === '' ? '(top level)' : name(path)}: ${issue.message}`;
    }),
  ].join('\n');
}

/** Names an export body's field by the option that sets it. */
function optionName(path: string): string {
  const [field, index] = path.split('.');
  const option =
    field === 'identifiers' ? '--identifier' : field === 'traits' ? '--trait' : `--${field ?? path}`;
  return index === undefined ? option : `${option} #${Number(index) + 1}`;
}
