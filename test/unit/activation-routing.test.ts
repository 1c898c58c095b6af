import { describe, expect, it } from 'vitest';
import { parseDestinationsConfig } from '../../src/core/activation/destination-config';
import { createDestinationRouter, destinationRulePattern } from '../../src/core/activation/routing';

const common = { kind: 'sqs', queue: 'arn:aws:sqs:eu-west-1:111122223333:q', consent: { category: null } };
const { destinations } = parseDestinationsConfig({
  destinations: [
    { ...common, name: 'esp', segments: ['pro-buyers', 'newsletter'] },
    { ...common, name: 'ads', segments: ['pro-buyers'] },
    { ...common, name: 'paused', segments: ['pro-buyers'], enabled: false },
  ],
});
const route = createDestinationRouter(destinations);

const envelope = (detailType: string, detail: Record<string, unknown>) => ({
  version: '0',
  id: 'e-1',
  'detail-type': detailType,
  source: 'mosaic',
  account: '111122223333',
  time: '2026-11-22T17:00:02Z',
  region: 'eu-west-1',
  resources: [],
  detail,
});
const exportDone = (segmentId: string, destination?: string) =>
  envelope('Audience Export Completed', {
    version: 1,
    exportId: 'x1',
    segmentId,
    ...(destination ? { destination } : {}),
  });
const changed = (segmentId: string, trigger: 'event' | 'export') =>
  envelope('Segment Membership Changed', {
    version: 1,
    segmentId,
    trigger,
    change: 'entered',
    profileId: 'p',
  });

describe('routing events to destinations (one rule each)', () => {
  it.each([
    ['an export for no destination → every enabled subscriber', exportDone('pro-buyers'), ['esp', 'ads']],
    ['an export for one destination → that one only', exportDone('pro-buyers', 'ads'), ['ads']],
    ['an export for a destination not subscribed → nobody', exportDone('newsletter', 'ads'), []],
    ['an export of a segment nobody subscribes to → nobody', exportDone('churned'), []],
    ['a streaming change → its subscribers', changed('newsletter', 'event'), ['esp']],
    ['a change found by an export → nobody (the export delivers it)', changed('pro-buyers', 'export'), []],
    ['another detail type → nobody', envelope('Profile Merged', { segmentId: 'pro-buyers' }), []],
    ['another source → nobody', { ...exportDone('pro-buyers'), source: 'acme' }, []],
  ])('%s', (_, event, expected) => {
    expect(route(event).map((d) => d.name)).toEqual(expected);
  });

  it('the rule is an EventBridge pattern over the envelope (what CDK puts on the rule)', () => {
    expect(destinationRulePattern({ name: 'ads', segments: ['pro-buyers'] })).toEqual({
      source: ['mosaic'],
      $or: [
        {
          'detail-type': ['Audience Export Completed'],
          detail: { segmentId: ['pro-buyers'], destination: [{ exists: false }] },
        },
        {
          'detail-type': ['Audience Export Completed'],
          detail: { segmentId: ['pro-buyers'], destination: ['ads'] },
        },
        {
          'detail-type': ['Segment Membership Changed'],
          detail: { segmentId: ['pro-buyers'], trigger: ['event'] },
        },
      ],
    });
  });
});
