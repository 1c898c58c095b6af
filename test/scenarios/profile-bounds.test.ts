import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CountingResolverMetrics } from '../../src/adapters/local/counting-resolver-metrics';
import { PROFILE_BOUNDS } from '../../src/core/profile/bounds';
import { serializedProfileBytes } from '../../src/core/profile/size';
import type { Logger } from '../../src/ports/logger';
import { type LocalDynamoDb, startDynalite } from '../support/dynalite';
import { resolverOn, streamRecord } from '../support/resolver-harness';

let engine: LocalDynamoDb;
beforeAll(async () => {
  engine = await startDynalite();
});
afterAll(() => engine.stop());

describe('profiles stay bounded: trimmed with a warning, never a failed write', () => {
  it('more traits than the bound and an oversize value: the event counts, the profile is trimmed, a warning says so without values', async () => {
    const warnings: { message: string; attributes: Record<string, unknown>[] }[] = [];
    const logger: Logger = {
      debug() {},
      info() {},
      error() {},
      warn(message, ...attributes) {
        warnings.push({ message, attributes });
      },
    };
    const metrics = new CountingResolverMetrics();
    const r = await resolverOn(engine, { logger, metrics });
    const traits = Object.fromEntries(
      Array.from({ length: PROFILE_BOUNDS.maxTraits + 50 }, (_, i) => [
        `trait_${String(i).padStart(3, '0')}`,
        i,
      ]),
    );
    const secret = 'x'.repeat(300_000);
    const outcome = await r.resolve([
      streamRecord({ type: 'identify', userId: 'big', traits }),
      streamRecord({ type: 'identify', userId: 'big', traits: { essay: secret } }),
    ]);
    expect(outcome.failed).toEqual([]);
    const profile = await r.profileOf({ type: 'user_id', value: 'big' });
    expect(profile?.eventCount).toBe(2);
    expect(Object.keys(profile?.traits ?? {}).length).toBeLessThanOrEqual(PROFILE_BOUNDS.maxTraits);
    expect(serializedProfileBytes(profile)).toBeLessThan(400 * 1024);
    expect(metrics.get('profile_warning.traits_trimmed')).toBeGreaterThan(0);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]?.message).toMatch(/trimmed/);
    expect(JSON.stringify(warnings)).not.toContain('xxxxxxxx');
  });
});
