import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalDynamoDb, startDynalite } from '../support/dynalite';
import { resolverOn, streamRecord } from '../support/resolver-harness';

let engine: LocalDynamoDb;
beforeAll(async () => {
  engine = await startDynalite();
});
afterAll(() => engine.stop());

describe('resolver smoke', () => {
  it('anonymous then identify', async () => {
    const r = await resolverOn(engine);
    const out1 = await r.resolve([
      streamRecord({ type: 'page', anonymousId: 'a1', name: 'Home' }),
      streamRecord({ type: 'track', anonymousId: 'a1', event: 'Viewed' }),
    ]);
    expect(out1.failed).toEqual([]);
    const out2 = await r.resolve([
      streamRecord({
        type: 'identify',
        anonymousId: 'a1',
        userId: 'u1',
        traits: { email: 'Jane@Example.com' },
      }),
      streamRecord({ type: 'track', anonymousId: 'a2', event: 'Viewed' }),
      streamRecord({ type: 'alias', previousId: 'a2', userId: 'u1' }),
    ]);
    expect(out2.failed).toEqual([]);
    const p = await r.profileOf({ type: 'email', value: 'jane@example.com' });
    expect(p?.eventCount).toBe(5);
    expect(p?.identities.map((i) => `${i.type}:${i.value}`)).toEqual([
      'anonymous_id:a1',
      'anonymous_id:a2',
      'email:jane@example.com',
      'user_id:u1',
    ]);
    console.log(r.store.requests, r.merges.length, r.links.length);
  });
});
