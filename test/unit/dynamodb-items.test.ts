import { describe, expect, it } from 'vitest';
import { fromAttributes, toAttributes } from '../../src/adapters/aws/dynamodb-items';
import { sdkClientConfig } from '../../src/adapters/aws/sdk-config';

describe('DynamoDB items', () => {
  it('converts every kind of value the adapters store, both ways', () => {
    const item = {
      pk: 'P#p1',
      ver: 7,
      doc: new Uint8Array([31, 139, 8]),
      pending: { p2: true },
      lastExport: { exportId: 'x1', count: 0 },
      list: ['a', 1],
    };
    const attributes = toAttributes(item);
    expect(attributes).toEqual({
      pk: { S: 'P#p1' },
      ver: { N: '7' },
      doc: { B: new Uint8Array([31, 139, 8]) },
      pending: { M: { p2: { BOOL: true } } },
      lastExport: { M: { exportId: { S: 'x1' }, count: { N: '0' } } },
      list: { L: [{ S: 'a' }, { N: '1' }] },
    });
    expect(fromAttributes(attributes)).toEqual(item);
  });

  it('leaves out members that are undefined, at any depth', () => {
    expect(toAttributes({ a: 'x', b: undefined, c: { d: undefined, e: 1 } })).toEqual({
      a: { S: 'x' },
      c: { M: { e: { N: '1' } } },
    });
  });

  it('every client caches its middleware chain', () => {
    expect(sdkClientConfig().cacheMiddleware).toBe(true);
  });
});
