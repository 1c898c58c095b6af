/**
 * ISO-8601 times in the collector's hot path. Every message carries a few and the stream wants them
 * as `Date#toISOString` writes them; V8's `Date.parse` and `toISOString` cost more than the rest of a
 * message's stamping together, so the common case (the form SDKs already send) is read and written
 * with arithmetic, and everything else still goes through `Date`.
 */

const MS_PER_DAY = 86_400_000;
const MS_PER_HOUR = 3_600_000;
/** 0000-01-01T00:00:00.000Z and 9999-12-31T23:59:59.999Z: the years written with four digits. */
const MIN_FOUR_DIGIT_YEAR_MS = -62_167_219_200_000;
const MAX_FOUR_DIGIT_YEAR_MS = 253_402_300_799_999;

/** "00" to "99". */
const TWO_DIGITS = Array.from({ length: 100 }, (_, n) => (n < 10 ? `0${n}` : `${n}`));

/**
 * The instant of `YYYY-MM-DDTHH:mm:ss.sssZ` — exactly what `toISOString` writes for years 0000-9999 —
 * with every field in range (no 24:00, no February 30th); `undefined` for any other text. For such
 * text, `Date.parse(text)` is the same number and `new Date(it).toISOString()` is the text itself.
 */
export function parseCanonicalIso(text: string): number | undefined {
  if (
    text.length !== 24 ||
    text.charCodeAt(4) !== DASH ||
    text.charCodeAt(7) !== DASH ||
    text.charCodeAt(10) !== LETTER_T ||
    text.charCodeAt(13) !== COLON ||
    text.charCodeAt(16) !== COLON ||
    text.charCodeAt(19) !== DOT ||
    text.charCodeAt(23) !== LETTER_Z
  ) {
    return undefined;
  }
  const year = digits(text, 0, 4);
  const month = digits(text, 5, 2);
  const day = digits(text, 8, 2);
  const hour = digits(text, 11, 2);
  const minute = digits(text, 14, 2);
  const second = digits(text, 17, 2);
  const millis = digits(text, 20, 3);
  if (
    year < 0 ||
    month < 1 ||
    month > 12 ||
    day < 1 ||
    day > daysInMonth(year, month) ||
    hour < 0 ||
    hour > 23 ||
    minute < 0 ||
    minute > 59 ||
    second < 0 ||
    second > 59 ||
    millis < 0
  ) {
    return undefined;
  }
  return daysFromCivil(year, month, day) * MS_PER_DAY + ((hour * 60 + minute) * 60 + second) * 1000 + millis;
}

/** `MM:` and `SS.` for 0-59, and `mmmZ` for 0-999: the pieces after the hour. */
const MINUTE_COLON = Array.from({ length: 60 }, (_, n) => `${TWO_DIGITS[n]}:`);
const SECOND_DOT = Array.from({ length: 60 }, (_, n) => `${TWO_DIGITS[n]}.`);
const MILLIS_Z = Array.from({ length: 1000 }, (_, n) => `${String(n).padStart(3, '0')}Z`);

/** The hour {@link isoOf} wrote last (hours since the epoch) and its `YYYY-MM-DDTHH:`. */
let memoHour = Number.NaN;
let memoHourText = '';

/**
 * `new Date(ms).toISOString()`, with arithmetic for whole milliseconds in years 0000-9999. The times a
 * collector writes are nearly all within the same hour, so `YYYY-MM-DDTHH:` is remembered for the last
 * one, and a time is that and three pieces from tables: a few nodes for the record's text to join.
 */
export function isoOf(ms: number): string {
  if (!Number.isInteger(ms) || ms < MIN_FOUR_DIGIT_YEAR_MS || ms > MAX_FOUR_DIGIT_YEAR_MS) {
    return new Date(ms).toISOString();
  }
  const hours = Math.floor(ms / MS_PER_HOUR);
  if (hours !== memoHour) {
    memoHourText = hourText(hours);
    memoHour = hours;
  }
  let rest = ms - hours * MS_PER_HOUR;
  const minute = Math.floor(rest / 60_000);
  rest -= minute * 60_000;
  const second = Math.floor(rest / 1000);
  return `${memoHourText}${MINUTE_COLON[minute]}${SECOND_DOT[second]}${MILLIS_Z[rest - second * 1000]}`;
}

/** `YYYY-MM-DDTHH:` of an hour since the epoch. */
function hourText(hours: number): string {
  const days = Math.floor(hours / 24);
  const hour = hours - days * 24;
  const { year, month, day } = civilFromDays(days);
  return `${TWO_DIGITS[Math.floor(year / 100)]}${TWO_DIGITS[year % 100]}-${TWO_DIGITS[month]}-${TWO_DIGITS[day]}T${TWO_DIGITS[hour]}:`;
}

/** Whether an instant is written with a four-digit year (0000-9999): what the lake's timestamps hold. */
export function isFourDigitYearTime(ms: number): boolean {
  return ms >= MIN_FOUR_DIGIT_YEAR_MS && ms <= MAX_FOUR_DIGIT_YEAR_MS;
}

/**
 * Whether the `YYYY-MM-DD` and, when there is one, the `THH:mm[:ss]` that an ISO-8601 text starts with
 * name a real day and time: `Date.parse` rolls `2026-02-30` over into March instead of refusing it.
 */
export function hasRealDateAndTime(text: string): boolean {
  const year = digits(text, 0, 4);
  const month = digits(text, 5, 2);
  const day = digits(text, 8, 2);
  if (year < 0 || month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return false;
  if (text.length <= 10) return true;
  const hour = digits(text, 11, 2);
  const minute = digits(text, 14, 2);
  if (hour < 0 || hour > 23 || minute < 0 || minute > 59) return false;
  if (text.charCodeAt(16) !== COLON) return true;
  const second = digits(text, 17, 2);
  return second >= 0 && second <= 59;
}

/**
 * The instant of ISO-8601 text: `Date.parse`, except that an offset of hours alone (`+05`, which
 * ISO-8601 allows and `Date.parse` refuses) is read as `+05:00`. `NaN` for text it cannot read.
 */
export function parseIsoMs(text: string): number {
  return Date.parse(HOURS_ONLY_OFFSET.test(text) ? `${text}:00` : text);
}

/** A date-time (a `T` first) ending in `+hh` or `-hh`. */
const HOURS_ONLY_OFFSET = /T[^+-]*[+-]\d{2}$/;

/** A time as sent, read: {@link parseIsoMs}, and the same instant as `toISOString` writes it. */
export interface ReadTime {
  readonly ms: number;
  readonly iso: string;
}

/** {@link ReadTime} of a valid ISO-8601 time (`isIsoDate`); the canonical form costs no `Date`. */
export function readTime(text: string): ReadTime {
  const canonical = parseCanonicalIso(text);
  if (canonical !== undefined) return { ms: canonical, iso: text };
  const ms = parseIsoMs(text);
  return { ms, iso: isoOf(ms) };
}

const DASH = 0x2d;
const COLON = 0x3a;
const DOT = 0x2e;
const LETTER_T = 0x54;
const LETTER_Z = 0x5a;
const ZERO = 0x30;

/** The decimal number of `length` ASCII digits from `start`; negative if any is not a digit. */
function digits(text: string, start: number, length: number): number {
  let value = 0;
  for (let i = start; i < start + length; i++) {
    const digit = text.charCodeAt(i) - ZERO;
    if (digit < 0 || digit > 9) return -1;
    value = value * 10 + digit;
  }
  return value;
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

// Proleptic Gregorian calendar <-> days since 1970-01-01, counting in 400-year eras from 0000-03-01
// (so the leap day ends a year): the standard era/year-of-era/day-of-year decomposition.
const DAYS_PER_ERA = 146_097;
const EPOCH_FROM_0000_03_01 = 719_468;

function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yearOfEra = y - era * 400;
  const dayOfYear = Math.floor((153 * (month > 2 ? month - 3 : month + 9) + 2) / 5) + day - 1;
  const dayOfEra = yearOfEra * 365 + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100) + dayOfYear;
  return era * DAYS_PER_ERA + dayOfEra - EPOCH_FROM_0000_03_01;
}

function civilFromDays(days: number): { year: number; month: number; day: number } {
  const z = days + EPOCH_FROM_0000_03_01;
  const era = Math.floor(z / DAYS_PER_ERA);
  const dayOfEra = z - era * DAYS_PER_ERA;
  const yearOfEra = Math.floor(
    (dayOfEra -
      Math.floor(dayOfEra / 1460) +
      Math.floor(dayOfEra / 36_524) -
      Math.floor(dayOfEra / 146_096)) /
      365,
  );
  const dayOfYear = dayOfEra - (365 * yearOfEra + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100));
  const shiftedMonth = Math.floor((5 * dayOfYear + 2) / 153);
  const day = dayOfYear - Math.floor((153 * shiftedMonth + 2) / 5) + 1;
  const month = shiftedMonth < 10 ? shiftedMonth + 3 : shiftedMonth - 9;
  return { year: yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day };
}
