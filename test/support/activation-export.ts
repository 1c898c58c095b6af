import { copyFile, mkdir, readdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { DuckDbExportRunner } from '../../src/adapters/local/duckdb-export-runner';
import { DuckDbLake } from '../../src/adapters/local/duckdb-lake';
import type { BusEnvelope } from '../../src/core/events/bus-event';
import {
  type AudienceExportCompletedDetail,
  audienceExportCompletedEvent,
} from '../../src/core/events/bus-events';
import { assembleProfile, createProfile, type Profile } from '../../src/core/profile/profile';
import { bindParams, compileSegment, exportFolder, planExport } from '../../src/core/segments';
import type { ExportCompletion, ExportJob, ExportResult } from '../../src/ports/audience-engine';
import type { ExportRecord } from '../../src/ports/segment-store';
import { type LakeEvent, type LakeLink, writeTestLake } from './segments-lake';

/**
 * A real audience export for activation tests: people written into a lake folder (events and identity
 * links as Parquet, the local lake's layout), the export run by the local DuckDB export runner
 * (`members/`, `audience/`, `changes/` files), and the `Audience Export Completed` envelope the bus
 * would deliver. Profiles (with consent) are built to match, for an identity store twin.
 */
export interface ActivationPerson {
  /** `p-<id>`; user id `u-<id>`. */
  readonly id: string;
  readonly email?: string;
  readonly phone?: string;
  readonly plan: string;
  readonly firstName?: string;
  /** `context.consent.categoryPreferences`; absent: the person never stated consent. */
  readonly consent?: Record<string, boolean>;
}

/**
 * `count` people (ids `001`, `002`, ...): the last one on the free plan, the rest on pro. Every third
 * denies email, every fifth states no consent at all, the rest grant email; evens grant advertising.
 */
export function consentVariedPeople(
  count: number,
  names: { readonly email: string; readonly phoneFrom: number; readonly firstName: string },
): ActivationPerson[] {
  const pad = (n: number) => String(n).padStart(3, '0');
  return Array.from({ length: count }, (_, i) => {
    const n = i + 1;
    return {
      id: pad(n),
      email: `${names.email}${pad(n)}@example.com`,
      phone: `+1650555${String(names.phoneFrom + n)}`,
      plan: n === count ? 'free' : 'pro',
      firstName: `${names.firstName}${n}`,
      ...(n % 5 === 0
        ? {}
        : { consent: { email_marketing: n % 3 !== 0, ...(n % 2 === 0 ? { advertising: true } : {}) } }),
    };
  });
}

export interface ActivationExport {
  readonly detail: AudienceExportCompletedDetail;
  readonly event: BusEnvelope;
  readonly record: ExportRecord;
  readonly profiles: Profile[];
}

const DAY = '2026-11-20T10:00:00.000Z';

/** Writes the people into `<dataDir>/lake/`; each call adds files under its own batch name. */
export async function addPeopleToLake(dataDir: string, people: readonly ActivationPerson[], batch = 'a') {
  const events: LakeEvent[] = people.map((p, i) => ({
    messageId: `m-${batch}-${i}`,
    type: 'identify',
    userId: `u-${p.id}`,
    timestamp: DAY,
    traits: { plan: p.plan, ...(p.firstName === undefined ? {} : { first_name: p.firstName }) },
  }));
  const links: LakeLink[] = people.flatMap((p) => [
    { id_type: 'user_id', id_value: `u-${p.id}`, profile_id: `p-${p.id}`, linked_at: DAY },
    ...(p.email === undefined
      ? []
      : [{ id_type: 'email', id_value: p.email, profile_id: `p-${p.id}`, linked_at: DAY }]),
    ...(p.phone === undefined
      ? []
      : [{ id_type: 'phone', id_value: p.phone, profile_id: `p-${p.id}`, linked_at: DAY }]),
  ]);
  const written = await writeTestLake(events, links);
  try {
    for (const table of ['events', 'identity_links']) {
      const from = join(written.dir, table);
      const files = (await readdir(from, { recursive: true })).filter((f) => f.endsWith('.parquet'));
      for (const file of files) {
        const target = join(dataDir, 'lake', table, dirname(file), `part-${batch}.parquet`);
        await mkdir(dirname(target), { recursive: true });
        await copyFile(join(from, file), target);
      }
    }
  } finally {
    await written.close();
  }
}

export interface ExportOptions {
  readonly segmentId?: string;
  readonly exportId?: string;
  readonly identifiers?: readonly string[];
  readonly traits?: readonly string[];
  /** Who is in the segment. Default everyone on the `pro` plan. */
  readonly definition?: unknown;
}

/**
 * Runs one export over the lake already in `dataDir` with the local DuckDB export runner and returns
 * its completion event, as the export completion would publish it.
 */
export async function runActivationExport(
  dataDir: string,
  options: ExportOptions = {},
): Promise<Omit<ActivationExport, 'profiles'>> {
  const segmentId = options.segmentId ?? 'pro-buyers';
  const exportId = options.exportId ?? 'x00000000001';
  const identifiers = options.identifiers ?? ['email', 'phone'];
  const traits = options.traits ?? ['plan', 'first_name'];
  const ast = await compileSegment(options.definition ?? { trait: { name: 'plan', op: 'eq', value: 'pro' } });
  const plan = planExport(ast, 'duckdb', { segmentId, exportId, identifiers, traits });
  const now = Date.parse('2026-11-22T12:00:00.000Z');
  const bind = (q: (typeof plan)['members']) => ({ sql: q.sql, values: bindParams(q.params, { now }) });
  const location = exportFolder(join(dataDir, 'exports'), segmentId, exportId);
  const job: ExportJob = {
    exportId,
    segmentId,
    segmentVersion: 1,
    format: 'csv',
    location,
    queries: {
      members: bind(plan.members),
      audience: bind(plan.audience),
      changes: bind(plan.changes),
      counts: bind(plan.counts),
    },
  };
  let outcome: ExportResult | string | undefined;
  const completion: ExportCompletion = {
    async succeeded(_job, result) {
      outcome = result;
    },
    async failed(_job, error) {
      outcome = error;
    },
  };
  const lake = await DuckDbLake.open({ dataDir, threads: 1 });
  try {
    const runner = new DuckDbExportRunner({
      lake,
      root: join(dataDir, 'exports'),
      completion,
      onError: () => undefined,
    });
    await runner.start(job);
    await runner.drain();
  } finally {
    lake.close();
  }
  if (outcome === undefined || typeof outcome === 'string') throw new Error(`export failed: ${outcome}`);
  const completedAt = '2026-11-22T12:00:05.000Z';
  const detail: AudienceExportCompletedDetail = {
    version: 1,
    exportId,
    segmentId,
    segmentVersion: 1,
    format: 'csv',
    count: outcome.count,
    added: outcome.added,
    removed: outcome.removed,
    audienceLocation: outcome.audienceLocation,
    changesLocation: outcome.changesLocation,
    membersLocation: outcome.membersLocation,
    completedAt,
  };
  const busEvent = audienceExportCompletedEvent(detail);
  const event: BusEnvelope = {
    version: '0',
    id: `evt-${exportId}`,
    'detail-type': busEvent.detailType,
    source: 'mosaic',
    account: '000000000000',
    time: '2026-11-22T12:00:05Z',
    region: 'local',
    resources: [],
    detail: busEvent.detail as unknown as Record<string, unknown>,
  };
  const record: ExportRecord = {
    exportId,
    segmentId,
    segmentVersion: 1,
    status: 'SUCCEEDED',
    format: 'csv',
    identifiers,
    traits,
    createdAt: '2026-11-22T12:00:00.000Z',
    completedAt,
    count: outcome.count,
    added: outcome.added,
    removed: outcome.removed,
    location,
  };
  return { detail, event, record };
}

/** The profile of a person as the resolver would hold it: identities and consent (no events needed). */
export function profileOf(person: ActivationPerson): Profile {
  const base = createProfile(`p-${person.id}`, '2026-11-01T00:00:00.000Z');
  return assembleProfile({
    ...base,
    identities: [
      { type: 'user_id', value: `u-${person.id}` },
      ...(person.email === undefined ? [] : [{ type: 'email', value: person.email }]),
      ...(person.phone === undefined ? [] : [{ type: 'phone', value: person.phone }]),
    ],
    ...(person.consent === undefined
      ? {}
      : { consent: { categoryPreferences: person.consent, t: Date.parse(DAY), h: 'h-consent' } }),
  });
}
