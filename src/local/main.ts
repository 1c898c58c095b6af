import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { consoleLogger } from '../adapters/local/console-logger';
import { hashKey } from '../core/auth/hashed-keys';
import { hashWriteKey } from '../core/collector/write-keys';
import { parseEnv } from '../core/config/env';
import { SourcesConfig } from '../core/config/sources';
import { DEFAULT_STREAM_BACKLOG_BYTES, type LocalRuntime, startLocalRuntime } from './runtime';
import { lowerThreadPoolPriority } from './thread-priority';

/**
 * `npm start`: the whole CDP on this machine. Reads its settings from the environment once, prints
 * where it listens with the development keys and a curl to copy, shows live counters, and on
 * SIGINT/SIGTERM lands everything it accepted before it exits.
 */
const DEV_WRITE_KEY = 'mosaic-dev-write-key';
const DEV_ADMIN_KEY = 'mosaic-dev-admin-key';

const LocalEnv = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  HOST: z.string().default('127.0.0.1'),
  MOSAIC_DATA_DIR: z.string().min(1).default('.mosaic'),
  MOSAIC_WRITE_KEY: z.string().min(8).default(DEV_WRITE_KEY),
  MOSAIC_ADMIN_KEY: z.string().min(8).default(DEV_ADMIN_KEY),
  /** Optional: sources as in the AWS config (JSON); otherwise one source `default` with MOSAIC_WRITE_KEY. */
  MOSAIC_SOURCES: z.string().optional(),
  /** Destinations: a JSON file's path, or the JSON itself (`{"destinations":[...]}`). */
  MOSAIC_DESTINATIONS: z.string().optional(),
  MOSAIC_LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error', 'silent']).default('warn'),
  /** Most MiB of unprocessed records the stream keeps on disk before the collector answers 503. */
  MOSAIC_STREAM_BACKLOG_MB: z.coerce
    .number()
    .int()
    .min(1)
    .default(DEFAULT_STREAM_BACKLOG_BYTES / 1024 ** 2),
});

async function main(): Promise<void> {
  const env = parseEnv(LocalEnv, process.env);
  // Under load the collector's thread gets a core before the background work of libuv's pool (the
  // lake's Parquet conversions in DuckDB), as it does before the resolver's thread.
  await lowerThreadPoolPriority();
  const sources = env.MOSAIC_SOURCES
    ? SourcesConfig.parse(JSON.parse(env.MOSAIC_SOURCES))
    : [{ name: 'default', keys: [{ sha256: hashWriteKey(env.MOSAIC_WRITE_KEY), revoked: false }] }];
  const runtime = await startLocalRuntime({
    port: env.PORT,
    host: env.HOST,
    dataDir: env.MOSAIC_DATA_DIR,
    sources,
    adminKeys: [{ name: 'local-admin', keyHashes: [hashKey(env.MOSAIC_ADMIN_KEY)] }],
    ...(env.MOSAIC_DESTINATIONS === undefined
      ? {}
      : { destinations: readJsonSetting(env.MOSAIC_DESTINATIONS, 'MOSAIC_DESTINATIONS') }),
    streamBacklogBytes: env.MOSAIC_STREAM_BACKLOG_MB * 1024 ** 2,
    logger: consoleLogger('mosaic', env.MOSAIC_LOG_LEVEL),
  });
  printBanner(runtime, env.MOSAIC_WRITE_KEY, env.MOSAIC_ADMIN_KEY, env.MOSAIC_SOURCES !== undefined);
  const ticker = startCounters(runtime);

  let stopping = false;
  const stop = async (signal: string) => {
    // One Ctrl+C reaches this process twice (from the terminal and from `npm start`'s launcher).
    if (stopping) return;
    stopping = true;
    // The counters keep ticking while a backlog is processed, so the wait shows its progress.
    const before = runtime.stats();
    const backlog = Math.max(before.resolverLag, before.inFlight);
    process.stdout.write(
      `\n${signal}: landing everything accepted, then exiting${backlog > 0 ? ` (${backlog} record${backlog === 1 ? '' : 's'} still to process)` : ''}...\n`,
    );
    await runtime.close();
    clearInterval(ticker);
    const s = runtime.stats();
    process.stdout.write(
      `${process.stdout.isTTY ? '\n' : ''}Stopped cleanly: ${s.accepted} accepted, ${s.rejected} rejected, ${s.landed} landed, ${s.resolved} resolved.\n`,
    );
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
}

function printBanner(
  runtime: LocalRuntime,
  writeKey: string,
  adminKey: string,
  customSources: boolean,
): void {
  const dev = writeKey === DEV_WRITE_KEY ? ' (development default; set MOSAIC_WRITE_KEY to change)' : '';
  const lines = [
    '',
    `Mosaic is running at ${runtime.url}`,
    `  data:       ${runtime.dataDir}`,
    customSources ? '  write keys: from MOSAIC_SOURCES' : `  write key:  ${writeKey}${dev}`,
    `  admin key:  ${adminKey}${adminKey === DEV_ADMIN_KEY ? ' (development default; set MOSAIC_ADMIN_KEY to change)' : ''}`,
    ...recoveredLine(runtime.stats().recovered),
    '',
    'Send your first event:',
    `  curl -u ${customSources ? '<write key>' : writeKey}: ${runtime.url}/v1/track \\`,
    `    -H 'Content-Type: application/json' \\`,
    `    -d '{"userId":"user-1","event":"Signed Up","properties":{"plan":"pro"}}'`,
    '',
    'Then read the unified profile:',
    `  curl -H 'Authorization: Bearer ${adminKey}' ${runtime.url}/v1/profiles/user_id:user-1`,
    '',
    'Segments, previews and exports (README "Segments, previews and exports"):',
    `  curl -H 'Authorization: Bearer ${adminKey}' ${runtime.url}/v1/segments`,
    '',
    `Query the lake:  duckdb -c "SELECT * FROM read_parquet('${runtime.dataDir}/lake/events/**/*.parquet', hive_partitioning=true)"`,
    'Stop with Ctrl+C: everything accepted is landed first.',
    '',
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  // A fresh random suggestion, so nobody is tempted to deploy the development key.
  if (dev)
    process.stdout.write(
      `Tip: a production-grade key looks like ${randomBytes(24).toString('base64url')}\n\n`,
    );
}

/** Tells that records the last run accepted are being processed now (after a crash, or a backlog left). */
function recoveredLine(recovered: number): string[] {
  if (recovered === 0) return [];
  return [
    `  recovered:  ${recovered} record${recovered === 1 ? '' : 's'} the last run accepted and had not processed; processing now`,
  ];
}

function startCounters(runtime: LocalRuntime): NodeJS.Timeout {
  let last = '';
  return setInterval(() => {
    const s = runtime.stats();
    const line = `accepted ${s.accepted}  rejected ${s.rejected}  landed ${s.landed}  in flight ${s.inFlight}  resolved ${s.resolved}  profiles ${s.profilesCreated}  merges ${s.profilesMerged}`;
    if (line === last) return;
    last = line;
    if (process.stdout.isTTY) process.stdout.write(`\r\x1b[2K${line}`);
    else process.stdout.write(`${new Date().toISOString()} ${line}\n`);
  }, 1000).unref();
}

main().catch((error: unknown) => {
  process.stderr.write(`mosaic failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});

/** A JSON setting given inline (it starts with `{` or `[`) or as the path of a JSON file. */
function readJsonSetting(value: string, name: string): unknown {
  const text = /^\s*[[{]/.test(value) ? value : readFileSync(value, 'utf8');
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new Error(`${name} is not valid JSON: ${error instanceof Error ? error.message : String(error)}`);
  }
}
