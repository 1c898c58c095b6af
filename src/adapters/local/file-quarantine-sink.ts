import { randomBytes } from 'node:crypto';
import { appendFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { toQuarantineRow } from '../../core/lake/quarantine-row';
import { partitionOf, partitionPath } from '../../core/lake/tables';
import { type Clock, systemClock } from '../../ports/clock';
import type { QuarantinedMessage, QuarantineSink } from '../../ports/quarantine-sink';

export interface FileQuarantineSinkOptions {
  /** The local data directory; files go under `<dataDir>/lake/quarantine/`. */
  readonly dataDir: string;
  /** Names this run's files and partitions messages without a usable `receivedAt`. */
  readonly clock?: Clock;
}

const PARTITIONABLE = /^\d{4}-\d{2}-\d{2}T\d{2}/;

/**
 * The local twin of the Firehose quarantine stream: one JSON line per message, with the `quarantine`
 * table's columns, appended to `<dataDir>/lake/quarantine/dt=YYYY-MM-DD/hour=HH/quarantine-<run>.ndjson`
 * (one file per partition and run, so runs never write into each other's files). `put` resolves once
 * the lines are written; appends to one file are serialised so lines never interleave.
 *
 * DuckDB reads the whole table with one `read_json` glob over the folder's `.ndjson` files
 * (`hive_partitioning = true` adds `dt` and `hour`).
 */
export class FileQuarantineSink implements QuarantineSink {
  private readonly lakeDir: string;
  private readonly clock: Clock;
  private readonly fileName: string;
  /** The last append queued per file; the next one waits for it. */
  private readonly tails = new Map<string, Promise<void>>();
  private readonly folders = new Set<string>();

  constructor(options: FileQuarantineSinkOptions) {
    this.lakeDir = join(options.dataDir, 'lake');
    this.clock = options.clock ?? systemClock;
    const started = new Date(this.clock.now())
      .toISOString()
      .replace(/[-:]/g, '')
      .replace(/\.\d+Z$/, 'Z');
    this.fileName = `quarantine-${started}-${randomBytes(4).toString('hex')}.ndjson`;
  }

  async put(messages: readonly QuarantinedMessage[]): Promise<void> {
    const byFolder = new Map<string, string>();
    for (const message of messages) {
      const receivedAt = PARTITIONABLE.test(message.receivedAt)
        ? message.receivedAt
        : new Date(this.clock.now()).toISOString();
      const folder = join(this.lakeDir, partitionPath('quarantine', partitionOf(receivedAt)));
      byFolder.set(folder, `${byFolder.get(folder) ?? ''}${JSON.stringify(toQuarantineRow(message))}\n`);
    }
    await Promise.all([...byFolder].map(([folder, lines]) => this.append(folder, lines)));
  }

  /** Resolves when every append started so far has finished. */
  async close(): Promise<void> {
    await Promise.allSettled([...this.tails.values()]);
  }

  private append(folder: string, lines: string): Promise<void> {
    const file = join(folder, this.fileName);
    const previous = this.tails.get(file) ?? Promise.resolve();
    const next = previous
      .catch(() => undefined)
      .then(async () => {
        if (!this.folders.has(folder)) {
          await mkdir(folder, { recursive: true });
          this.folders.add(folder);
        }
        await appendFile(file, lines);
      });
    this.tails.set(file, next);
    const forget = () => {
      if (this.tails.get(file) === next) this.tails.delete(file);
    };
    next.then(forget, forget);
    return next;
  }
}
