import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BUS_SOURCE } from '../../src/core/events/bus-event';
import {
  AUDIENCE_EXPORT_COMPLETED,
  BUS_EVENT_CATALOGUE,
  busEventJsonSchema,
  busEventSchemaOf,
  PROFILE_DELETED,
  PROFILE_MERGED,
  ProfileDeletedDetail,
  profileDeletedEvent,
  renderJsonSchema,
  SEGMENT_MEMBERSHIP_CHANGED,
  SegmentMembershipChangedDetail,
  segmentMembershipChangedEvent,
} from '../../src/core/events/bus-events';

const root = join(import.meta.dirname, '..', '..');
const schemasFolder = join(root, 'docs', 'schemas');
const eventsDoc = readFileSync(join(root, 'docs', 'events.md'), 'utf8');

/** The ```json blocks of docs/events.md, parsed. */
function docExamples(): { detailType: string; envelope: Record<string, unknown> }[] {
  const blocks = [...eventsDoc.matchAll(/```json\n([\s\S]*?)```/g)].map((m) => m[1] as string);
  return blocks.map((text) => {
    const envelope = JSON.parse(text) as Record<string, unknown>;
    return { detailType: String(envelope['detail-type']), envelope };
  });
}

/** Keywords that carry no constraint (annotations) or are checked through another (`format` by `pattern`). */
const ANNOTATIONS = new Set(['$schema', 'title', 'description', 'format']);

/**
 * A JSON Schema validator for the keywords the generated schemas use, so the checked-in files — what
 * consumers validate with — are exercised, not only the zod schemas. A keyword it does not know fails
 * the test instead of being ignored.
 */
function jsonSchemaErrors(schema: Record<string, unknown>, value: unknown, path = '$'): string[] {
  const errors: string[] = [];
  const kind =
    value === null
      ? 'null'
      : Array.isArray(value)
        ? 'array'
        : typeof value === 'number'
          ? 'number'
          : typeof value;
  for (const [keyword, rule] of Object.entries(schema)) {
    if (ANNOTATIONS.has(keyword)) continue;
    switch (keyword) {
      case 'type': {
        const ok =
          rule === kind || (rule === 'integer' && kind === 'number' && Number.isInteger(value as number));
        if (!ok) errors.push(`${path}: not ${String(rule)}`);
        break;
      }
      case 'const':
        if (JSON.stringify(value) !== JSON.stringify(rule))
          errors.push(`${path}: not ${JSON.stringify(rule)}`);
        break;
      case 'enum':
        if (!(rule as unknown[]).some((v) => JSON.stringify(v) === JSON.stringify(value))) {
          errors.push(`${path}: not one of ${JSON.stringify(rule)}`);
        }
        break;
      case 'minLength':
        if (typeof value === 'string' && [...value].length < (rule as number))
          errors.push(`${path}: too short`);
        break;
      case 'maxLength':
        if (typeof value === 'string' && [...value].length > (rule as number))
          errors.push(`${path}: too long`);
        break;
      case 'pattern':
        if (typeof value === 'string' && !new RegExp(rule as string, 'u').test(value)) {
          errors.push(`${path}: does not match ${String(rule)}`);
        }
        break;
      case 'minimum':
        if (typeof value === 'number' && value < (rule as number)) errors.push(`${path}: below ${rule}`);
        break;
      case 'exclusiveMinimum':
        if (typeof value === 'number' && value <= (rule as number)) errors.push(`${path}: not above ${rule}`);
        break;
      case 'maximum':
        if (typeof value === 'number' && value > (rule as number)) errors.push(`${path}: above ${rule}`);
        break;
      case 'maxItems':
        if (Array.isArray(value) && value.length > (rule as number)) errors.push(`${path}: too many items`);
        break;
      case 'items':
        if (Array.isArray(value)) {
          value.forEach((item, i) => {
            errors.push(...jsonSchemaErrors(rule as Record<string, unknown>, item, `${path}[${i}]`));
          });
        }
        break;
      case 'required':
        if (kind === 'object') {
          for (const name of rule as string[]) {
            if (!Object.hasOwn(value as object, name)) errors.push(`${path}: ${name} is required`);
          }
        }
        break;
      case 'properties':
        if (kind === 'object') {
          for (const [name, sub] of Object.entries(rule as Record<string, Record<string, unknown>>)) {
            if (Object.hasOwn(value as object, name)) {
              errors.push(
                ...jsonSchemaErrors(sub, (value as Record<string, unknown>)[name], `${path}.${name}`),
              );
            }
          }
        }
        break;
      case 'additionalProperties':
        if (rule === false && kind === 'object') {
          const known = (schema.properties ?? {}) as Record<string, unknown>;
          for (const name of Object.keys(value as object)) {
            if (!Object.hasOwn(known, name)) errors.push(`${path}: unknown property ${name}`);
          }
        } else if (rule !== false)
          throw new Error(`additionalProperties ${JSON.stringify(rule)} is not supported`);
        break;
      case 'oneOf': {
        const matching = (rule as Record<string, unknown>[]).filter(
          (sub) => jsonSchemaErrors(sub, value, path).length === 0,
        );
        if (matching.length !== 1) errors.push(`${path}: matches ${matching.length} of oneOf, not exactly 1`);
        break;
      }
      default:
        throw new Error(`JSON Schema keyword ${keyword} is not supported by this test's validator`);
    }
  }
  return errors;
}

describe('event catalogue JSON Schemas (docs/schemas)', () => {
  it('lists the four events of DESIGN.md, each at version 1', () => {
    expect(BUS_EVENT_CATALOGUE.map((e) => `${e.detailType} v${e.version}`)).toEqual([
      'Profile Merged v1',
      'Segment Membership Changed v1',
      'Audience Export Completed v1',
      'Profile Deleted v1',
    ]);
  });

  it.each(BUS_EVENT_CATALOGUE.map((entry) => [entry.file, entry] as const))(
    'checked-in %s equals the schema generated from the zod schema (run scripts/write-event-schemas.ts)',
    (file, entry) => {
      const checkedIn = readFileSync(join(schemasFolder, file), 'utf8');
      expect(checkedIn).toBe(renderJsonSchema(busEventJsonSchema(entry)));
    },
  );

  it('holds no schema file outside the catalogue', () => {
    const files = readdirSync(schemasFolder)
      .filter((f) => f.endsWith('.json'))
      .sort();
    expect(files).toEqual(BUS_EVENT_CATALOGUE.map((e) => e.file).sort());
  });

  it('generates strict draft 2020-12 schemas: required fields and no unknown ones', () => {
    const schema = busEventJsonSchema(BUS_EVENT_CATALOGUE[3] as (typeof BUS_EVENT_CATALOGUE)[number]);
    expect(schema.$schema).toBe('https://json-schema.org/draft/2020-12/schema');
    expect(schema.title).toBe('Profile Deleted v1 (detail)');
    expect(schema.additionalProperties).toBe(false);
    expect(schema.required).toEqual(
      expect.arrayContaining(['version', 'requestId', 'profileId', 'mergedProfileIds', 'deletedAt']),
    );
  });
});

describe('docs/events.md', () => {
  const examples = docExamples();

  it('has at least one example per catalogue entry and links each schema file', () => {
    for (const entry of BUS_EVENT_CATALOGUE) {
      expect(
        examples.some((e) => e.detailType === entry.detailType),
        entry.detailType,
      ).toBe(true);
      expect(eventsDoc).toContain(`(schemas/${entry.file})`);
    }
  });

  it.each(examples.map((e, i) => [`${i} (${e.detailType})`, e] as const))(
    'example %s is an EventBridge envelope from mosaic whose detail validates',
    (_, { detailType, envelope }) => {
      expect(envelope.version).toBe('0');
      expect(envelope.source).toBe(BUS_SOURCE);
      expect(envelope.time).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
      expect(Array.isArray(envelope.resources)).toBe(true);
      const detail = envelope.detail as { version: number };
      const entry = busEventSchemaOf(detailType, detail.version);
      expect(entry, `${detailType} v${detail.version} is in the catalogue`).toBeDefined();
      const parsed = entry?.schema.safeParse(detail);
      expect(parsed?.error?.issues ?? []).toEqual([]);
    },
  );

  it.each(examples.map((e, i) => [`${i} (${e.detailType})`, e] as const))(
    'example %s validates against its checked-in JSON Schema file',
    (_, { detailType, envelope }) => {
      const detail = envelope.detail as { version: number };
      const entry = busEventSchemaOf(detailType, detail.version);
      if (entry === undefined) throw new Error(`${detailType} is not in the catalogue`);
      const schema = JSON.parse(readFileSync(join(schemasFolder, entry.file), 'utf8')) as Record<
        string,
        unknown
      >;
      expect(jsonSchemaErrors(schema, detail)).toEqual([]);
    },
  );

  it('the JSON Schema files refuse what the zod schemas refuse (unknown field, missing field, bad time, bad trigger)', () => {
    const load = (file: string) =>
      JSON.parse(readFileSync(join(schemasFolder, file), 'utf8')) as Record<string, unknown>;
    const byType = (type: string) =>
      examples.find((e) => e.detailType === type)?.envelope.detail as Record<string, unknown>;
    const deleted = byType(PROFILE_DELETED);
    const deletedSchema = load('profile-deleted.v1.json');
    expect(jsonSchemaErrors(deletedSchema, { ...deleted, email: 'jane@example.com' })).toEqual([
      '$: unknown property email',
    ]);
    const { requestId: _requestId, ...missing } = deleted;
    expect(jsonSchemaErrors(deletedSchema, missing)).toEqual(['$: requestId is required']);
    expect(jsonSchemaErrors(deletedSchema, { ...deleted, deletedAt: '2026-11-22 18:30' })).toHaveLength(1);
    const changed = byType(SEGMENT_MEMBERSHIP_CHANGED);
    const changedSchema = load('segment-membership-changed.v1.json');
    expect(jsonSchemaErrors(changedSchema, { ...changed, trigger: 'event' })).toHaveLength(1);
    expect(jsonSchemaErrors(changedSchema, { ...changed, segmentVersion: 0 })).toHaveLength(1);
  });

  it('an example with an unknown field or a missing one would fail (the check has teeth)', () => {
    const example = examples.find((e) => e.detailType === PROFILE_DELETED);
    const detail = { ...(example?.envelope.detail as Record<string, unknown>) };
    expect(ProfileDeletedDetail.safeParse({ ...detail, email: 'jane@example.com' }).success).toBe(false);
    delete detail.requestId;
    expect(ProfileDeletedDetail.safeParse(detail).success).toBe(false);
  });
});

describe('Segment Membership Changed v1', () => {
  const base = {
    version: 1 as const,
    changeId: 'c-1',
    segmentId: 'pro-buyers',
    segmentVersion: 2,
    profileId: 'p-1',
    change: 'entered' as const,
    at: '2026-11-22T17:00:03.120Z',
  };

  it('is an event of its detail type, timed when the change happened', () => {
    const event = segmentMembershipChangedEvent({ ...base, trigger: 'export', exportId: 'x0123456789' });
    expect(event.detailType).toBe(SEGMENT_MEMBERSHIP_CHANGED);
    expect(event.time).toBe(base.at);
    expect(event.detail).toEqual({ ...base, trigger: 'export', exportId: 'x0123456789' });
  });

  it('names its trigger: an export carries exportId, an event its messageId and source', () => {
    expect(SegmentMembershipChangedDetail.safeParse({ ...base, trigger: 'export' }).success).toBe(false);
    expect(
      SegmentMembershipChangedDetail.safeParse({ ...base, trigger: 'event', messageId: 'm', source: 'web' })
        .success,
    ).toBe(true);
    expect(
      SegmentMembershipChangedDetail.safeParse({ ...base, trigger: 'event', exportId: 'x0123456789' })
        .success,
    ).toBe(false);
  });

  it('refuses identifier values and changes other than entered/exited', () => {
    const detail = { ...base, trigger: 'export', exportId: 'x0123456789' };
    expect(SegmentMembershipChangedDetail.safeParse({ ...detail, email: 'jane@example.com' }).success).toBe(
      false,
    );
    expect(SegmentMembershipChangedDetail.safeParse({ ...detail, change: 'updated' }).success).toBe(false);
  });
});

describe('Profile Deleted v1', () => {
  it('is an event timed at the deletion, checked against its schema', () => {
    const detail = {
      version: 1 as const,
      requestId: 'd-1',
      profileId: 'p-1',
      mergedProfileIds: ['p-2'],
      identifierTypes: ['email'],
      requestedAt: '2026-11-22T18:30:00.000Z',
      deletedAt: '2026-11-22T18:30:09.412Z',
    };
    const event = profileDeletedEvent(detail);
    expect(event).toEqual({ detailType: PROFILE_DELETED, detail, time: detail.deletedAt });
    expect(() => profileDeletedEvent({ ...detail, deletedAt: 'yesterday' })).toThrow();
  });

  it('keeps the existing detail types unchanged in the catalogue', () => {
    expect(busEventSchemaOf(PROFILE_MERGED, 1)).toBeDefined();
    expect(busEventSchemaOf(AUDIENCE_EXPORT_COMPLETED, 1)).toBeDefined();
    expect(busEventSchemaOf(AUDIENCE_EXPORT_COMPLETED, 2)).toBeUndefined();
  });
});
