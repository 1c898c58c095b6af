import { z } from 'zod';
import type { CollectorLimits } from '../config/limits';
import type { CallType, JsonObject } from '../events/stream-record';
import { hasRealDateAndTime, isFourDigitYearTime, parseCanonicalIso, parseIsoMs } from './iso-time';

/**
 * ISO-8601 as SDKs send it: a date, or a date and time with a zone (`Z` or an offset). A time without
 * a zone is refused: it would be read in the collector's own time zone.
 */
const ISO_8601 = /^\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}(?::?\d{2})?))?$/;

/** True for an ISO-8601 date, or date-time with a zone, that names a real instant. */
export function isIsoDate(value: string): boolean {
  // The form SDKs send (toISOString's) is recognised without the regular expression and Date.parse.
  if (parseCanonicalIso(value) !== undefined) return true;
  // An instant outside years 0000-9999 (`9999-12-31T23:00:00-05:00`) is one the lake cannot hold.
  return (
    value.length <= 40 &&
    ISO_8601.test(value) &&
    hasRealDateAndTime(value) &&
    isFourDigitYearTime(parseIsoMs(value))
  );
}

/** A JSON object (not an array, not null). Free-form parts of a message are checked for this only. */
export function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const jsonObject = (what: string) =>
  z.custom<JsonObject>(isJsonObject, { message: `${what} must be a JSON object` });

const isoDate = z.string().refine(isIsoDate, { message: 'must be an ISO-8601 date-time with a time zone' });

/**
 * zod schemas for the six Segment calls, following the Segment spec: the common fields, then what
 * each call adds (`event` for track, `groupId` for group, `previousId` for alias, ...). Unknown
 * top-level fields are allowed and kept; free-form objects (properties, traits, context,
 * integrations) are checked for shape only, their contents by `checkBounds`.
 */
export function buildMessageSchemas(limits: CollectorLimits) {
  // A number id is written as text (`42` → "42"); past 2^53 JSON's number has already lost digits
  // (12345678901234567890 reads as 12345678901234567000), so such an id must come as a string.
  const pastExact = {
    error: 'a number id must be within ±2^53 (9007199254740991): send larger ones as strings',
  };
  const numberId = z
    .number()
    .min(-Number.MAX_SAFE_INTEGER, pastExact)
    .max(Number.MAX_SAFE_INTEGER, pastExact);
  const id = z.union([z.string().max(limits.maxIdLength), numberId], {
    error: `must be a string of at most ${limits.maxIdLength} characters or a number within ±2^53 (larger ones as strings)`,
  });
  const requiredId = z.union([z.string().trim().min(1).max(limits.maxIdLength), numberId], {
    error: `must be a non-empty string of at most ${limits.maxIdLength} characters or a number within ±2^53 (larger ones as strings)`,
  });

  // `null` stands for "not sent" wherever a field may be left out (SDKs and hand-written backends
  // send `"properties": null`): stamping treats it so (normalize.ts).
  const common = {
    messageId: z.string().min(1).max(limits.maxMessageIdLength).nullish(),
    userId: id.nullish(),
    anonymousId: id.nullish(),
    timestamp: isoDate.nullish(),
    originalTimestamp: isoDate.nullish(),
    sentAt: isoDate.nullish(),
    context: jsonObject('context').nullish(),
    integrations: jsonObject('integrations').nullish(),
  };

  const schemas = {
    track: z.looseObject({
      ...common,
      event: z.string().trim().min(1, 'event must be a non-empty string').max(1024),
      properties: jsonObject('properties').nullish(),
    }),
    identify: z.looseObject({ ...common, traits: jsonObject('traits').nullish() }),
    page: z.looseObject({
      ...common,
      name: z.string().max(1024).nullish(),
      category: z.string().max(1024).nullish(),
      properties: jsonObject('properties').nullish(),
    }),
    screen: z.looseObject({
      ...common,
      name: z.string().max(1024).nullish(),
      category: z.string().max(1024).nullish(),
      properties: jsonObject('properties').nullish(),
    }),
    group: z.looseObject({ ...common, groupId: requiredId, traits: jsonObject('traits').nullish() }),
    alias: z.looseObject({ ...common, previousId: requiredId, userId: requiredId }),
  } satisfies Record<CallType, z.ZodType>;
  return schemas;
}

export type MessageSchemas = ReturnType<typeof buildMessageSchemas>;

/** A readable one-line reason from a zod error: `event: event must be a non-empty string; ...`. */
export function describeIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 5)
    .map((issue) => (issue.path.length > 0 ? `${issue.path.join('.')}: ${issue.message}` : issue.message))
    .join('; ');
}
