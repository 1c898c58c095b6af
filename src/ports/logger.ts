/**
 * Structured logging, as Powertools Logger offers it; the local runtime has a console twin.
 * Attributes must never carry PII: codes, counts, ids of requests, never message contents.
 */
export interface Logger {
  debug(message: string, ...attributes: Record<string, unknown>[]): void;
  info(message: string, ...attributes: Record<string, unknown>[]): void;
  warn(message: string, ...attributes: Record<string, unknown>[]): void;
  error(message: string, ...attributes: Record<string, unknown>[]): void;
}

export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };
