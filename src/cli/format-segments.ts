import type { ExportView, PreviewView, SegmentView } from '../core/segments/views';
import { cell, clean, table } from './format';
import { formatDuration } from './jobs';

/**
 * The `mosaic segments` and `mosaic exports` human output: pure functions from the Segments API's
 * views (core/segments/views.ts) to text, every line ending with `\n` and every value cleaned (a
 * segment's name and definition, like a trait, may hold anything).
 */

const orDash = (value: string | undefined) => (value === undefined ? '—' : cell(value));

/** `1234567` → `1,234,567` */
export function formatCount(count: number): string {
  return String(count).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/** Bytes in decimal units, as Athena bills them: `512 B`, `1.5 kB`, `12.3 MB`. */
export function formatBytes(bytes: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB', 'PB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(1)} ${units[unit]}`;
}

const members = (count: number) => `${formatCount(count)} member${count === 1 ? '' : 's'}`;

/** A segment: its facts, then its definition as indented JSON. */
export function formatSegment(view: SegmentView): string {
  const out: string[] = [`Segment ${cell(view.id)}: ${cell(view.name)}\n`];
  const facts: [string, string][] = [];
  if (view.description !== undefined && view.description !== '')
    facts.push(['description', cell(view.description, 200)]);
  facts.push(
    ['version', String(view.version)],
    ['created', cell(view.createdAt)],
    ['updated', cell(view.updatedAt)],
    [
      'last export',
      view.lastExport === undefined
        ? 'none'
        : `${cell(view.lastExport.exportId)}: ${members(view.lastExport.count)}, ${cell(view.lastExport.completedAt)}`,
    ],
  );
  out.push(table(facts));
  out.push('\nDefinition\n');
  const json = JSON.stringify(view.definition, null, 2) ?? 'null';
  out.push(
    json
      .split('\n')
      .map((line) => `  ${clean(line)}\n`)
      .join(''),
  );
  return out.join('');
}

/** Segments as a table, in the API's order. */
export function formatSegmentList(segments: readonly SegmentView[]): string {
  if (segments.length === 0) return 'No segments\n';
  const head = `${segments.length} segment${segments.length === 1 ? '' : 's'}\n`;
  return (
    head +
    table(
      segments.map((segment) => [
        cell(segment.id),
        cell(segment.name, 60),
        String(segment.version),
        cell(segment.updatedAt),
        segment.lastExport === undefined
          ? '—'
          : `${formatCount(segment.lastExport.count)} (${cell(segment.lastExport.completedAt)})`,
      ]),
      { headers: ['ID', 'NAME', 'VERSION', 'UPDATED', 'LAST EXPORT'] },
    )
  );
}

/**
 * A finished preview: the member count, what the query cost when the API says, how long it took
 * (the API's measure when it gives one, else `waitedMs`, the CLI's own), then the sample.
 */
export function formatPreview(view: PreviewView, waitedMs: number): string {
  const count = view.count ?? 0;
  const out: string[] = [
    `Segment ${cell(view.segmentId)}: ${view.count === undefined ? 'no count' : members(count)}\n`,
  ];
  const facts: [string, string][] = [];
  if (view.bytesScanned !== undefined) facts.push(['bytes scanned', formatBytes(view.bytesScanned)]);
  facts.push(['elapsed', formatDuration(view.elapsedMs ?? waitedMs)]);
  facts.push(['preview', cell(view.previewId)]);
  out.push(table(facts));
  const sample = view.sample ?? [];
  out.push(
    sample.length === 0
      ? '\nSample: none\n'
      : `\nSample (${sample.length} of ${formatCount(count)}, by profile id)\n${table(sample.map((id) => [cell(id)]))}`,
  );
  return out.join('');
}

/** An export: its state, columns, destination and, once done, its counts and where the files are. */
export function formatExport(view: ExportView): string {
  const out: string[] = [
    `Export ${cell(view.exportId)} of segment ${cell(view.segmentId)} (version ${view.segmentVersion}): ${cell(view.status)}\n`,
  ];
  const facts: [string, string][] = [['format', cell(view.format)]];
  if (view.identifiers.length > 0)
    facts.push(['identifiers', view.identifiers.map((i) => cell(i)).join(', ')]);
  if (view.traits.length > 0) facts.push(['traits', view.traits.map((t) => cell(t)).join(', ')]);
  if (view.destination !== undefined) facts.push(['destination', cell(view.destination)]);
  facts.push(['created', cell(view.createdAt)]);
  if (view.completedAt !== undefined) facts.push(['completed', cell(view.completedAt)]);
  if (view.count !== undefined) facts.push(['members', formatCount(view.count)]);
  if (view.added !== undefined) facts.push(['added', formatCount(view.added)]);
  if (view.removed !== undefined) facts.push(['removed', formatCount(view.removed)]);
  if (view.status === 'SUCCEEDED')
    facts.push([
      'compared with',
      view.previousExportId === undefined ? 'nothing (first export)' : cell(view.previousExportId),
    ]);
  facts.push(['location', orDash(view.location)]);
  if (view.error !== undefined) facts.push(['error', cell(view.error, 500)]);
  out.push(table(facts));
  return out.join('');
}
