import { isJsonObject } from './collector/message-schemas';
import { BadRequestError } from './errors';
import type { JsonObject } from './events/stream-record';

/** A request body's JSON text as an object; the API's 400 (`invalid_json`) when it is not one. */
export function parseJsonObject(text: string): JsonObject {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new BadRequestError('The body is not valid JSON', { code: 'invalid_json' });
  }
  if (!isJsonObject(parsed))
    throw new BadRequestError('The body must be a JSON object', { code: 'invalid_json' });
  return parsed;
}
