import type { CollectorLimits } from '../config/limits';
import type { CallType, JsonObject } from '../events/stream-record';
import { isIsoDate, isJsonObject } from './message-schemas';

/**
 * True only when the zod schema of `type` ({@link buildMessageSchemas}) accepts the message; `false`
 * means "ask zod", which then says why. The collector's hot path: zod runs only for messages that are
 * probably invalid, to word the reason.
 */
export type MessageCheck = (message: JsonObject, type: CallType) => boolean;

/**
 * The schemas of `message-schemas.ts` as plain predicates, rule for rule: keep the two in step (the
 * property test `collector-fast-path.test.ts` holds them to the same verdicts).
 */
export function buildMessageCheck(limits: Pick<CollectorLimits, 'maxIdLength' | 'maxMessageIdLength'>) {
  const { maxIdLength, maxMessageIdLength } = limits;

  /** `id.nullish()`: a string of at most maxIdLength characters or a number within ±2^53, or nothing. */
  const optionalId = (value: unknown): boolean =>
    value === undefined ||
    value === null ||
    (typeof value === 'string' ? value.length <= maxIdLength : isNumberId(value));

  /** `requiredId`: a string non-empty and at most maxIdLength once trimmed, or a number within ±2^53. */
  const requiredId = (value: unknown): boolean =>
    typeof value === 'string' ? lengthWithin(value.trim(), 1, maxIdLength) : isNumberId(value);

  const common = (m: JsonObject): boolean =>
    (m.messageId === undefined ||
      m.messageId === null ||
      (typeof m.messageId === 'string' && lengthWithin(m.messageId, 1, maxMessageIdLength))) &&
    optionalId(m.anonymousId) &&
    optionalTime(m.timestamp) &&
    optionalTime(m.originalTimestamp) &&
    optionalTime(m.sentAt) &&
    optionalObject(m.context) &&
    optionalObject(m.integrations);

  const byType: Readonly<Record<CallType, (m: JsonObject) => boolean>> = {
    track: (m) =>
      optionalId(m.userId) &&
      typeof m.event === 'string' &&
      lengthWithin(m.event.trim(), 1, 1024) &&
      optionalObject(m.properties),
    identify: (m) => optionalId(m.userId) && optionalObject(m.traits),
    page: (m) =>
      optionalId(m.userId) && nullishName(m.name) && nullishName(m.category) && optionalObject(m.properties),
    screen: (m) =>
      optionalId(m.userId) && nullishName(m.name) && nullishName(m.category) && optionalObject(m.properties),
    group: (m) => optionalId(m.userId) && requiredId(m.groupId) && optionalObject(m.traits),
    alias: (m) => requiredId(m.previousId) && requiredId(m.userId),
  };

  const check: MessageCheck = (message, type) => byType[type](message) && common(message);
  return check;
}

const lengthWithin = (text: string, min: number, max: number): boolean =>
  text.length >= min && text.length <= max;

/** `numberId`: a number JSON holds exactly as an id, within ±2^53. */
const isNumberId = (value: unknown): boolean =>
  typeof value === 'number' && Math.abs(value) <= Number.MAX_SAFE_INTEGER;

/** `isoDate.nullish()`. */
const optionalTime = (value: unknown): boolean =>
  value === undefined || value === null || (typeof value === 'string' && isIsoDate(value));

/** `jsonObject(...).nullish()`. */
const optionalObject = (value: unknown): boolean =>
  value === undefined || value === null || isJsonObject(value);

/** `z.string().max(1024).nullish()` (page and screen `name`, `category`). */
const nullishName = (value: unknown): boolean =>
  value === undefined || value === null || (typeof value === 'string' && value.length <= 1024);
