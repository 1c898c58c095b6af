import type { Logger } from '../../ports/logger';

const LEVELS = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 } as const;
export type LogLevel = keyof typeof LEVELS;

/**
 * The local twin of Powertools Logger: one JSON object per line on stderr (stdout stays for what a
 * person reads), with the same level names.
 */
export function consoleLogger(service: string, level: LogLevel = 'info'): Logger {
  const threshold = LEVELS[level];
  const write = (
    name: Exclude<LogLevel, 'silent'>,
    message: string,
    attributes: Record<string, unknown>[],
  ) => {
    if (LEVELS[name] < threshold) return;
    const line = Object.assign(
      { level: name.toUpperCase(), message, service, timestamp: new Date().toISOString() },
      ...attributes,
    );
    process.stderr.write(`${JSON.stringify(line)}\n`);
  };
  return {
    debug: (message, ...attributes) => write('debug', message, attributes),
    info: (message, ...attributes) => write('info', message, attributes),
    warn: (message, ...attributes) => write('warn', message, attributes),
    error: (message, ...attributes) => write('error', message, attributes),
  };
}
