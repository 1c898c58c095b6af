import type { Logger } from '../../src/ports/logger';

export interface LogLine {
  readonly level: 'debug' | 'info' | 'warn' | 'error';
  readonly message: string;
  readonly attributes: Record<string, unknown>;
}

/** A Logger that keeps what it is told, so tests can check what is logged (and that no PII is). */
export class RecordingLogger implements Logger {
  readonly lines: LogLine[] = [];

  debug(message: string, ...attributes: Record<string, unknown>[]): void {
    this.record('debug', message, attributes);
  }
  info(message: string, ...attributes: Record<string, unknown>[]): void {
    this.record('info', message, attributes);
  }
  warn(message: string, ...attributes: Record<string, unknown>[]): void {
    this.record('warn', message, attributes);
  }
  error(message: string, ...attributes: Record<string, unknown>[]): void {
    this.record('error', message, attributes);
  }

  /** Everything logged, as one text (to assert that something never appears). */
  text(): string {
    return JSON.stringify(this.lines);
  }

  private record(level: LogLine['level'], message: string, attributes: Record<string, unknown>[]): void {
    this.lines.push({ level, message, attributes: Object.assign({}, ...attributes) });
  }
}
