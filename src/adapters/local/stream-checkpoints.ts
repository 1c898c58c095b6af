import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { PARTITIONINGS } from './kinesis-shape';

const FILE = 'checkpoints.json';

const Position = z.number().int().nonnegative();

const fields = {
  /** The stream's shard count: a log is read back only with the same count. */
  shards: z.number().int().positive(),
  /** Per shard, the position after its last record (sequence numbers carry on from there). */
  ends: z.array(Position),
  /** Per subscription, per shard, the position of the first record it has not processed. */
  subscriptions: z.record(z.string(), z.array(Position)),
};

/**
 * What the in-process stream keeps beside its log so a restart carries on where it stopped. Version 2
 * names how keys were mapped to shards; version 1 (written before there was a choice) means `md5`.
 */
const StreamCheckpoints = z
  .discriminatedUnion('version', [
    z.object({ version: z.literal(2), partitioning: z.enum(PARTITIONINGS), ...fields }),
    z.object({ version: z.literal(1), ...fields }),
  ])
  .transform((file) => ({
    ...file,
    version: 2 as const,
    partitioning: 'partitioning' in file ? file.partitioning : 'md5',
  }));

export type StreamCheckpoints = z.output<typeof StreamCheckpoints>;

/** The checkpoints in `dir`, or undefined when there are none; throws if the file is not one. */
export function readCheckpoints(dir: string): StreamCheckpoints | undefined {
  const path = join(dir, FILE);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  const result = StreamCheckpoints.safeParse(parsed);
  if (!result.success) {
    throw new Error(
      `${path} is not a stream checkpoint file this version of Mosaic reads (${result.error.issues[0]?.message ?? 'not JSON'}). Remove it to have every record the log beside it still holds delivered again (at least once).`,
    );
  }
  return result.data;
}

/**
 * Replaces the checkpoints in `dir`: written beside and renamed over, so a reader sees the old or the
 * new. One write at a time per folder (they share the file beside).
 */
export async function writeCheckpoints(dir: string, checkpoints: StreamCheckpoints): Promise<void> {
  const path = join(dir, FILE);
  await writeFile(`${path}.tmp`, JSON.stringify(checkpoints));
  await rename(`${path}.tmp`, path);
}

/** {@link writeCheckpoints}, done before it returns: for what must be on disk before the first put. */
export function writeCheckpointsSync(dir: string, checkpoints: StreamCheckpoints): void {
  const path = join(dir, FILE);
  writeFileSync(`${path}.tmp`, JSON.stringify(checkpoints));
  renameSync(`${path}.tmp`, path);
}
