import RudderAnalytics from '@rudderstack/rudder-sdk-node';
import { Analytics } from '@segment/analytics-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalRuntime } from '../../src/local/runtime';
import {
  ADMIN_KEY,
  basicAuth,
  identityLinksGlob,
  queryLake,
  startTestRuntime,
  WRITE_KEY,
} from './local-runtime';

let runtime: LocalRuntime;
let stop: () => Promise<void>;

beforeAll(async () => {
  ({ runtime, stop } = await startTestRuntime());
});
afterAll(async () => {
  await stop();
});

/** GET a Profile API path with a Bearer key (the admin key unless told; `null` sends none). */
const getProfile = (path: string, key: string | null = ADMIN_KEY) =>
  fetch(`${runtime.url}/v1/profiles/${path}`, {
    headers: key === null ? {} : { authorization: `Bearer ${key}` },
  });

describe('real SDK clients → local runtime → Profile API', () => {
  it('shows one unified person across a browser (Segment) and a backend (RudderStack)', async () => {
    // The browser: anonymous browsing, then the visitor signs up (identify with email).
    const segment = new Analytics({ writeKey: WRITE_KEY, host: runtime.url, flushAt: 20, flushInterval: 50 });
    segment.page({ anonymousId: 'browser-anon-1', name: 'Pricing' });
    segment.track({ anonymousId: 'browser-anon-1', event: 'Plan Viewed', properties: { plan: 'pro' } });
    segment.identify({
      anonymousId: 'browser-anon-1',
      userId: 'user-42',
      traits: { email: 'Jane.Doe@Example.com', plan: 'pro' },
    });
    await segment.closeAndFlush({ timeout: 10_000 });

    // The phone: another anonymous id, the same email (another case) — a second device, merged by email.
    const rudder = new RudderAnalytics(WRITE_KEY, {
      dataPlaneUrl: runtime.url,
      flushAt: 20,
      flushInterval: 50,
    });
    await new Promise<void>((resolve) => {
      rudder.track({ anonymousId: 'phone-anon-7', event: 'App Opened', properties: {} });
      rudder.identify({
        anonymousId: 'phone-anon-7',
        traits: { email: 'jane.doe@example.com', city: 'Lyon' },
      });
      rudder.flush(() => resolve());
    });

    await runtime.flush();

    // Every identifier reads the same profile: anonymous history followed the person.
    const byEmail = await getProfile('email:JANE.DOE%40example.com');
    expect(byEmail.status).toBe(200);
    const profile = (await byEmail.json()) as {
      profileId: string;
      identities: { type: string; value: string }[];
      traits: Record<string, unknown>;
      computed: { eventCount: number; eventCounts: Record<string, number> };
    };
    expect(profile.identities).toEqual(
      expect.arrayContaining([
        { type: 'anonymous_id', value: 'browser-anon-1' },
        { type: 'anonymous_id', value: 'phone-anon-7' },
        { type: 'email', value: 'jane.doe@example.com' },
        { type: 'user_id', value: 'user-42' },
      ]),
    );
    expect(profile.traits).toMatchObject({ plan: 'pro', city: 'Lyon' });
    expect(profile.computed.eventCount).toBe(5);
    expect(profile.computed.eventCounts).toMatchObject({ 'Plan Viewed': 1, 'App Opened': 1 });
    for (const path of ['user_id:user-42', 'anonymous_id:browser-anon-1', 'anonymous_id:phone-anon-7']) {
      const other = (await (await getProfile(path)).json()) as { profileId: string };
      expect(other.profileId).toBe(profile.profileId);
    }

    const events = (await (await getProfile('user_id:user-42/events?limit=3')).json()) as {
      events: { type: string }[];
    };
    expect(events.events).toHaveLength(3);

    // Which merge built it, and the identity_links history in the lake that maps every id to it.
    const merges = (await (await getProfile('user_id:user-42/merges')).json()) as {
      merges: { reason: string }[];
    };
    expect(merges.merges.filter((entry) => entry.reason === 'merged')).toHaveLength(1);
    const latest = await queryLake(
      `SELECT id_type, id_value, arg_max(profile_id, linked_at) AS profile_id
         FROM read_parquet('${identityLinksGlob(runtime)}', hive_partitioning = true)
        GROUP BY id_type, id_value ORDER BY id_type, id_value`,
    );
    expect(latest).toHaveLength(4);
    expect(latest.every((row) => row.profile_id === profile.profileId)).toBe(true);
  });

  it("a messageId reused by another person's identify never attaches them to the first person's profile", async () => {
    // The black-box tester's curl calls: two different messages, one messageId.
    const identify = async (body: object) => {
      const response = await fetch(`${runtime.url}/v1/identify`, {
        method: 'POST',
        headers: { authorization: basicAuth(WRITE_KEY), 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      expect(response.status).toBe(200);
    };
    const alice = { userId: 'alice-77', traits: { email: 'alice77@example.com' }, messageId: 'collide-77' };
    await identify(alice);
    await identify({
      userId: 'bob-77',
      traits: { email: 'bob77@example.com', plan: 'bobplan' },
      messageId: 'collide-77',
    });
    // And alice's request again, as an SDK retry sends it: a true redelivery.
    await identify(alice);
    await runtime.flush();

    type View = {
      profileId: string;
      identities: { type: string; value: string }[];
      traits: Record<string, unknown>;
      computed: { eventCount: number };
    };
    const bob = (await (await getProfile('user_id:bob-77')).json()) as View;
    const aliceView = (await (await getProfile('user_id:alice-77')).json()) as View;
    expect(bob.profileId).not.toBe(aliceView.profileId);
    expect(bob.identities).toEqual([
      { type: 'email', value: 'bob77@example.com' },
      { type: 'user_id', value: 'bob-77' },
    ]);
    expect(bob.traits).toEqual({ email: 'bob77@example.com', plan: 'bobplan' });
    expect(bob.computed.eventCount).toBe(1);
    expect(aliceView.identities).toEqual([
      { type: 'email', value: 'alice77@example.com' },
      { type: 'user_id', value: 'alice-77' },
    ]);
    expect(aliceView.traits).toEqual({ email: 'alice77@example.com' });
    expect(aliceView.computed.eventCount).toBe(1);
    expect(((await (await getProfile('email:bob77%40example.com')).json()) as View).profileId).toBe(
      bob.profileId,
    );

    const rows = await queryLake(
      `SELECT id_type, id_value, profile_id
         FROM read_parquet('${identityLinksGlob(runtime)}', hive_partitioning = true)
        WHERE id_value IN ('alice-77', 'alice77@example.com', 'bob-77', 'bob77@example.com')`,
    );
    const owners = new Map(rows.map((row) => [row.id_value, new Set<unknown>()]));
    for (const row of rows) owners.get(row.id_value)?.add(row.profile_id);
    expect(Object.fromEntries([...owners].map(([value, ids]) => [value, [...ids]]))).toEqual({
      'alice-77': [aliceView.profileId],
      'alice77@example.com': [aliceView.profileId],
      'bob-77': [bob.profileId],
      'bob77@example.com': [bob.profileId],
    });
  });

  it('guards the Profile API: 401 without the admin key, 403 with a write key, 404 and 400 as documented', async () => {
    expect((await getProfile('user_id:user-42', null)).status).toBe(401);
    expect((await getProfile('user_id:user-42', WRITE_KEY)).status).toBe(403);
    const unknown = await getProfile('user_id:nobody');
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toMatchObject({ error: { code: 'profile_not_found' } });
    expect((await getProfile('shoe_size:42')).status).toBe(400);
    expect((await getProfile('email:null')).status).toBe(400);
  });
});
