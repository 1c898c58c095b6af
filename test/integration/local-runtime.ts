import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { launcherEnv } from '../../scripts/start.mjs';
import { hashKey } from '../../src/core/auth/hashed-keys';
import { hashWriteKey } from '../../src/core/collector/write-keys';
import { type LocalRuntime, type LocalRuntimeOptions, startLocalRuntime } from '../../src/local/runtime';
import { silentLogger } from '../../src/ports/logger';

export const WRITE_KEY = 'integration-write-key';
export const OTHER_SOURCE_KEY = 'integration-backend-key';
export const REVOKED_KEY = 'integration-revoked-key';
export const ADMIN_KEY = 'integration-admin-key';

/** The local runtime on a free port with a fresh data directory; `stop` closes it and removes the data. */
export async function startTestRuntime(
  extra: Partial<LocalRuntimeOptions> = {},
): Promise<{ runtime: LocalRuntime; stop: () => Promise<void> }> {
  const dataDir = await mkdtemp(join(tmpdir(), 'mosaic-it-'));
  const runtime = await startLocalRuntime({
    port: 0,
    dataDir,
    lakeFlushIntervalMs: 200,
    logger: silentLogger,
    adminKeys: [{ name: 'integration-admin', keyHashes: [hashKey(ADMIN_KEY)] }],
    sources: [
      {
        name: 'website',
        keys: [
          { sha256: hashWriteKey(WRITE_KEY), revoked: false },
          { sha256: hashWriteKey(REVOKED_KEY), revoked: true },
        ],
      },
      { name: 'backend', keys: [{ sha256: hashWriteKey(OTHER_SOURCE_KEY), revoked: false }] },
    ],
    ...extra,
  });
  return {
    runtime,
    stop: async () => {
      await runtime.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** Rows of a DuckDB query over the local lake. */
export async function queryLake(sql: string): Promise<Record<string, unknown>[]> {
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  try {
    const reader = await connection.runAndReadAll(sql);
    return reader.getRowObjectsJson() as Record<string, unknown>[];
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

/** Every Parquet file of the local lake's `identity_links` table. */
export const identityLinksGlob = (runtime: LocalRuntime) =>
  `${runtime.dataDir}/lake/identity_links/**/*.parquet`;

export const eventsGlob = (runtime: LocalRuntime) => `${runtime.dataDir}/lake/events/**/*.parquet`;
export const quarantineGlob = (runtime: LocalRuntime) => `${runtime.dataDir}/lake/quarantine/**/*.ndjson`;

export function basicAuth(key: string): string {
  return `Basic ${Buffer.from(`${key}:`).toString('base64')}`;
}

/** The local runtime as a process of its own (see {@link startMosaicProcess}). */
export interface MosaicProcess {
  readonly child: ChildProcess;
  readonly url: string;
  /** Everything it has printed so far (stdout and stderr). */
  output(): string;
  readonly exited: Promise<number | null>;
}

/**
 * Runs `node <args>` — the runtime's program, from its sources or its bundle — on data directory `dir`
 * with the integration keys, in the environment `npm start` gives it, and resolves once it says where it
 * listens. The child is added to `children`, for the test to kill after it.
 */
export function startMosaicProcess(
  args: readonly string[],
  dir: string,
  children: ChildProcess[],
): Promise<MosaicProcess> {
  const child = spawn(process.execPath, args, {
    cwd: join(import.meta.dirname, '..', '..'),
    env: launcherEnv({
      PORT: '0',
      MOSAIC_DATA_DIR: dir,
      MOSAIC_WRITE_KEY: WRITE_KEY,
      MOSAIC_ADMIN_KEY: ADMIN_KEY,
      MOSAIC_LOG_LEVEL: 'error',
    }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let output = '';
  for (const stream of [child.stdout, child.stderr]) {
    stream?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
  }
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    const timer = setInterval(() => {
      const url = /running at (http:\/\/\S+)/.exec(output)?.[1];
      if (url) {
        clearInterval(timer);
        resolve({ child, url, output: () => output, exited });
      } else if (child.exitCode !== null) {
        clearInterval(timer);
        reject(new Error(`Mosaic exited: ${output}`));
      }
    }, 50);
  });
}
