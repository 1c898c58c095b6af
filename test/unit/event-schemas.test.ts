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
