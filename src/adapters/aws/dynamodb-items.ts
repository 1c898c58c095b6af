import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';

/** An item, key or set of expression values as JavaScript values: strings, numbers, bytes, maps, lists. */
export type NativeItem = Record<string, unknown>;

/** DynamoDB's wire form of a {@link NativeItem}. */
export type AttributeMap = Record<string, AttributeValue>;

/**
 * JavaScript values to DynamoDB's attribute values: strings S, numbers N, `Uint8Array` B, objects M,
 * arrays L; members that are `undefined` are left out, as lib-dynamodb's `removeUndefinedValues` does.
 *
 * The DynamoDB adapters send the client's own commands with items converted here, not lib-dynamodb's
 * document commands: lib-dynamodb adds its marshalling middleware to each command, which rules out the
 * client caching a command's middleware chain (`cacheMiddleware`, `sdk-config.ts`), and building that
 * chain anew was about a quarter of the SDK's CPU a call.
 */
export function toAttributes(item: NativeItem): AttributeMap {
  return marshall(item, { removeUndefinedValues: true });
}

/** DynamoDB's attribute values back to JavaScript values (numbers as `number`, binary as `Uint8Array`). */
export function fromAttributes(item: AttributeMap): NativeItem {
  return unmarshall(item);
}
