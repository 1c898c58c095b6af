import type { LakeEvent, LakeLink } from './segments-lake';

/** The time the segment tests evaluate at. */
export const NOW = Date.parse('2026-11-22T12:00:00.000Z');

const daysAgo = (days: number, hour = 10): string =>
  new Date(NOW - days * 86_400_000 + (hour - 12) * 3_600_000).toISOString();

let sequence = 0;
const track = (
  who: { userId?: string; anonymousId?: string },
  days: number,
  event: string,
  properties: Record<string, unknown> = {},
  extra: Partial<LakeEvent> = {},
): LakeEvent => ({
  messageId: `m-${++sequence}`,
  type: 'track',
  event,
  ...who,
  timestamp: daysAgo(days),
  properties,
  ...extra,
});
const identify = (
  who: { userId?: string; anonymousId?: string },
  days: number,
  traits: Record<string, unknown>,
  extra: Partial<LakeEvent> = {},
): LakeEvent => ({
  messageId: `m-${++sequence}`,
  type: 'identify',
  ...who,
  timestamp: daysAgo(days),
  traits,
  ...extra,
});

const alice = { userId: 'u-alice' };
const aliceAnon = { anonymousId: 'a-alice' };
const bob = { userId: 'u-bob' };
const carol = { userId: 'u-carol' };
const dan = { anonymousId: 'a-dan' };
const erin = { userId: 'u-erin' };

/**
 * Five people, each exercising part of the resolver's rules:
 * - alice: pro; two orders in the last 30 days, one made anonymously before her anonymous id was
 *   merged into her profile; Advertising consent granted; nested and typed traits; a ticket 15 days
 *   ago whose messageId dan's ticket reuses (a buggy client: two messages, one id), landed twice.
 * - bob: pro, then free (latest identify wins) and a late event saying enterprise with an older
 *   timestamp (does not win); two orders; a ticket 3 days ago; consent granted, then withdrawn.
 * - carol: pro from `context.traits`, then `plan: null` (a null write wins: no plan); three orders
 *   45 days ago, one of them landed twice in the lake (counted once).
 * - dan: anonymous only; one identify with `traits.plan` pro and `context.traits.plan` basic (traits
 *   wins); two orders; a ticket 10 days ago, under alice's ticket's messageId (it counts for dan, as
 *   on his profile, and alice's counts once).
 * - erin: `age` as the string "34"; two identifies in the same millisecond (the message key decides,
 *   as in the resolver, not the message id).
 */
export const EVENTS: readonly LakeEvent[] = [
  identify(alice, 21, {
    plan: 'pro',
    email: 'alice@example.com',
    age: 34,
    vip: true,
    signup: '2026-01-15T00:00:00Z',
    address: { city: 'Paris', zip: '75001' },
  }),
  track(aliceAnon, 20, 'Order Completed', { total: 40, currency: 'EUR', sku: 'A' }),
  track(alice, 2, 'Order Completed', { total: 60, currency: 'EUR', sku: 'B' }),
  track(alice, 12, 'Page Viewed', { path: "/it's" }),
  // Dan's ticket's messageId, reused by another message (received first), and landed twice.
  track(alice, 15, 'Ticket Opened', { priority: 'high' }, { messageId: 'ticket-7' }),
  track(alice, 15, 'Ticket Opened', { priority: 'high' }, { messageId: 'ticket-7', receivedAt: daysAgo(14) }),
  {
    ...identify(alice, 12, {}),
    context: { consent: { categoryPreferences: { Advertising: true, Analytics: false } } },
  },

  identify(bob, 52, { plan: 'pro', age: 51 }),
  identify(bob, 7, { plan: 'free' }),
  identify(bob, 48, { plan: 'enterprise' }, { receivedAt: daysAgo(2) }),
  track(bob, 25, 'Order Completed', { total: 10, currency: 'USD', sku: 'A' }),
  track(bob, 5, 'Order Completed', { total: 15.5, currency: 'USD', sku: 'A' }),
  track(bob, 3, 'Ticket Opened', { priority: 'high' }),
  { ...identify(bob, 30, {}), context: { consent: { categoryPreferences: { Advertising: true } } } },
  { ...identify(bob, 4, {}), context: { consent: { categoryPreferences: { Analytics: true } } } },

  track(carol, 46, 'Signed Up', {}, { context: { traits: { plan: 'pro' } } }),
  identify(carol, 44, { plan: null, age: 29 }),
  track(carol, 45, 'Order Completed', { total: 100, currency: 'EUR', sku: 'C' }, { messageId: 'carol-dup' }),
  track(
    carol,
    45,
    'Order Completed',
    { total: 100, currency: 'EUR', sku: 'C' },
    {
      messageId: 'carol-dup',
      receivedAt: daysAgo(44),
    },
  ),
  track(carol, 45, 'Order Completed', { total: 20, currency: 'EUR', sku: 'D' }),
  track(carol, 45, 'Order Completed', { total: 'n/a', currency: 'EUR' }),

  identify(dan, 15, { plan: 'pro' }, { context: { traits: { plan: 'basic', company: 'Acme' } } }),
  track(dan, 14, 'Order Completed', { total: 5, currency: 'GBP', sku: 'A' }),
  track(dan, 1, 'Order Completed', { total: 7, currency: 'GBP', sku: 'A' }),
  track(dan, 10, 'Ticket Opened', { priority: 'low' }, { messageId: 'ticket-7' }),

  identify(erin, 6, { age: '34', plan: 'a' }, { messageId: 'erin-3' }),
  // Same millisecond: the resolver's message key decides (erin-2's key sorts after erin-3's, its id before).
  identify(erin, 6, { plan: 'b' }, { messageId: 'erin-2' }),
];

/** The identity graph's history: alice's anonymous id first had its own profile, then was merged. */
export const LINKS: readonly LakeLink[] = [
  { id_type: 'user_id', id_value: 'u-alice', profile_id: 'p-alice', linked_at: daysAgo(21) },
  { id_type: 'anonymous_id', id_value: 'a-alice', profile_id: 'p-anon', linked_at: daysAgo(20) },
  { id_type: 'anonymous_id', id_value: 'a-alice', profile_id: 'p-alice', linked_at: daysAgo(19) },
  { id_type: 'user_id', id_value: 'u-bob', profile_id: 'p-bob', linked_at: daysAgo(52) },
  { id_type: 'user_id', id_value: 'u-carol', profile_id: 'p-carol', linked_at: daysAgo(46) },
  { id_type: 'anonymous_id', id_value: 'a-dan', profile_id: 'p-dan', linked_at: daysAgo(15) },
  { id_type: 'user_id', id_value: 'u-erin', profile_id: 'p-erin', linked_at: daysAgo(6) },
  { id_type: 'email', id_value: 'alice@example.com', profile_id: 'p-alice', linked_at: daysAgo(21) },
];
