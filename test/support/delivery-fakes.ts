import type { HttpOutcome } from '../../src/core/activation/http-retry';
import type { MemberRecord } from '../../src/core/activation/pii';
import type { BusEnvelope } from '../../src/core/events/bus-event';
import { AUDIENCE_EXPORT_COMPLETED } from '../../src/core/events/bus-events';
import { compareStrings } from '../../src/core/identity/identifier';
import { assembleProfile, createProfile } from '../../src/core/profile/profile';
import type { AudienceReader, AudienceSource } from '../../src/ports/audience-reader';
import type {
  DeadLetter,
  DeadLetterSink,
  DeliveredBatch,
  DeliveryLedger,
} from '../../src/ports/delivery-ledger';
import type { DestinationSender, OutboundBatch } from '../../src/ports/destination-sender';
import type { ExportRecord } from '../../src/ports/segment-store';
import { MemoryProfileReader } from './memory-profile-reader';

/**
 * In-memory twins for delivery tests that do not need a real export: an audience of `n` members
 * (`p-0001`..) with an email each, their profiles (all granting `email_marketing`), the export record,
 * the `Audience Export Completed` envelope, a ledger and a dead-letter queue in memory, and a sender
 * that answers from a script.
 */
export const EXPORT_ID = 'x00000000010000000000';
export const SEGMENT_ID = 'pro-buyers';

export function audienceMembers(n: number): MemberRecord[] {
  return Array.from({ length: n }, (_, i) => ({
    profileId: `p-${String(i + 1).padStart(4, '0')}`,
    identifiers: { email: `person${i + 1}@example.com` },
    traits: {},
  }));
}

/** The members' profiles, each granting `email_marketing`. */
export function profilesOf(members: readonly MemberRecord[]): MemoryProfileReader {
  const reader = new MemoryProfileReader();
  for (const m of members) {
    reader.putLive(
      assembleProfile({
        ...createProfile(m.profileId, '2026-11-01T00:00:00.000Z'),
        identities: [{ type: 'email', value: m.identifiers.email as string }],
        consent: { categoryPreferences: { email_marketing: true }, t: 1, h: 'h' },
      }),
    );
  }
  return reader;
}

export const exportRecord: ExportRecord = {
  exportId: EXPORT_ID,
  segmentId: SEGMENT_ID,
  segmentVersion: 1,
  status: 'SUCCEEDED',
  format: 'csv',
  identifiers: ['email'],
  traits: [],
  createdAt: '2026-11-22T10:00:00.000Z',
  location: `s3://mosaic-exports/exports/segment_id=${SEGMENT_ID}/export_id=${EXPORT_ID}/audience/`,
} as ExportRecord;

export function exportEvent(count: number, id = 'evt-1'): BusEnvelope {
  const folder = `s3://mosaic-exports/exports/segment_id=${SEGMENT_ID}/export_id=${EXPORT_ID}`;
  return {
    version: '0',
    id,
    'detail-type': AUDIENCE_EXPORT_COMPLETED,
    source: 'mosaic',
    account: '123456789012',
    time: '2026-11-22T10:05:00Z',
    region: 'eu-west-1',
    resources: [],
    detail: {
      version: 1,
      exportId: EXPORT_ID,
      segmentId: SEGMENT_ID,
      segmentVersion: 1,
      format: 'csv',
      count,
      added: count,
      removed: 0,
      audienceLocation: `${folder}/audience/`,
      changesLocation: `${folder}/changes/`,
      membersLocation: `${folder}/members/`,
      completedAt: '2026-11-22T10:05:00.000Z',
    },
  };
}

/** An audience reader over an array (sorted by profile id), in pages; counts its reads. */
export class ArrayAudienceReader implements AudienceReader {
  reads = 0;
  readonly sources: AudienceSource[] = [];
  constructor(private readonly members: readonly MemberRecord[]) {}
  async count(): Promise<number> {
    return this.members.length;
  }
  async *pages(source: AudienceSource, pageSize: number): AsyncIterable<readonly MemberRecord[]> {
    this.reads++;
    this.sources.push(source);
    const sorted = [...this.members].sort((a, b) => compareStrings(a.profileId, b.profileId));
    for (let i = 0; i < sorted.length; i += pageSize) yield sorted.slice(i, i + pageSize);
  }
}

export class MemoryLedger implements DeliveryLedger {
  readonly records = new Map<string, DeliveredBatch>();
  async isDelivered(destination: string, key: string): Promise<boolean> {
    return this.records.has(`${destination}/${key}`);
  }
  async recordDelivered(batch: DeliveredBatch): Promise<void> {
    const key = `${batch.destination}/${batch.idempotencyKey}`;
    if (!this.records.has(key)) this.records.set(key, batch);
  }
}

export class MemoryDeadLetters implements DeadLetterSink {
  readonly letters: DeadLetter[] = [];
  async put(letter: DeadLetter): Promise<void> {
    this.letters.push(letter);
  }
}

export const OK: HttpOutcome = { kind: 'response', status: 200 };

/** Answers from a script of (batch index, attempt) → outcome, and keeps every accepted batch. */
export class ScriptedSender implements DestinationSender {
  readonly accepted: OutboundBatch[] = [];
  readonly attempts: { batch: number; attempt: number }[] = [];
  private readonly counts = new Map<number, number>();
  constructor(private readonly script: (batch: number, attempt: number) => HttpOutcome = () => OK) {}
  async send(batch: OutboundBatch): Promise<HttpOutcome> {
    const index = batch.context.batch.index;
    const attempt = (this.counts.get(index) ?? 0) + 1;
    this.counts.set(index, attempt);
    this.attempts.push({ batch: index, attempt });
    const outcome = this.script(index, attempt);
    if (outcome.kind === 'response' && outcome.status >= 200 && outcome.status < 300)
      this.accepted.push(batch);
    return outcome;
  }
  acceptedBatches(): number[] {
    return this.accepted.map((b) => b.context.batch.index);
  }
}
