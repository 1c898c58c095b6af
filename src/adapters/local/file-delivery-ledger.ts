import { appendFile, mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DESTINATION_NAME } from '../../core/activation/destination-config';
import type { DeadLetter, DeadLetterSink, DeliveredBatch, DeliveryLedger } from '../../ports/delivery-ledger';

/** `<dataDir>/destinations/<name>`: a destination's local files (ledger, dead letters, file drops). */
export function destinationFolder(dataDir: string, destination: string): string {
  if (!DESTINATION_NAME.test(destination)) throw new RangeError('not a destination name');
  return join(dataDir, 'destinations', destination);
}

/**
 * The local {@link DeliveryLedger}: one append-only NDJSON file per destination,
 * `<dataDir>/destinations/<name>/delivered.ndjson`, read once (on the destination's first use) into a
 * set of keys. Appends to one file run one after another; a line cut short by a crash is skipped when
 * read (its batch is then sent again, under the same `Idempotency-Key`, which receivers dedupe on).
 */
export class FileDeliveryLedger implements DeliveryLedger {
  private readonly keys = new Map<string, Promise<Set<string>>>();
  private readonly tails = new Map<string, Promise<unknown>>();
  /** Files whose last line was cut short: the next append starts a new line first. */
  private readonly torn = new Set<string>();

  constructor(private readonly dataDir: string) {}

  async isDelivered(destination: string, idempotencyKey: string): Promise<boolean> {
    return (await this.load(destination)).has(idempotencyKey);
  }

  async recordDelivered(batch: DeliveredBatch): Promise<void> {
    const keys = await this.load(batch.destination);
    if (keys.has(batch.idempotencyKey)) return;
    await appendLine(
      this.tails,
      destinationFolder(this.dataDir, batch.destination),
      'delivered.ndjson',
      batch,
      this.torn,
    );
    keys.add(batch.idempotencyKey);
  }

  /** Loads a destination's ledger now (at start), so a bad file shows before the first delivery. */
  async open(destination: string): Promise<void> {
    await this.load(destination);
  }

  private load(destination: string): Promise<Set<string>> {
    let loaded = this.keys.get(destination);
    if (loaded === undefined) {
      loaded = readKeys(join(destinationFolder(this.dataDir, destination), 'delivered.ndjson'), this.torn);
      this.keys.set(destination, loaded);
      // A read that failed (not a missing file) is tried again next time.
      loaded.catch(() => this.keys.delete(destination));
    }
    return loaded;
  }
}

/** The local dead-letter queue: `<dataDir>/destinations/<name>/dlq.ndjson`, one letter a line. */
export class FileDeadLetterSink implements DeadLetterSink {
  private readonly tails = new Map<string, Promise<unknown>>();

  constructor(private readonly dataDir: string) {}

  async put(letter: DeadLetter): Promise<void> {
    await appendLine(this.tails, destinationFolder(this.dataDir, letter.destination), 'dlq.ndjson', letter);
  }

  /** The letters of a destination, oldest first (for `mosaic destinations` and tests). */
  async list(destination: string): Promise<DeadLetter[]> {
    return (await readLines(
      join(destinationFolder(this.dataDir, destination), 'dlq.ndjson'),
    )) as DeadLetter[];
  }
}

async function readKeys(file: string, torn: Set<string>): Promise<Set<string>> {
  const keys = new Set<string>();
  for (const line of await readLines(file, torn)) {
    const key = (line as { idempotencyKey?: unknown }).idempotencyKey;
    if (typeof key === 'string') keys.add(key);
  }
  return keys;
}

async function readLines(file: string, torn?: Set<string>): Promise<unknown[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  if (text !== '' && !text.endsWith('\n')) torn?.add(file);
  const lines: unknown[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    try {
      lines.push(JSON.parse(line));
    } catch {
      // A line cut short by a crash mid-append.
    }
  }
  return lines;
}

/** Appends one JSON line to `folder/file`, after the previous append to the same file. */
function appendLine(
  tails: Map<string, Promise<unknown>>,
  folder: string,
  file: string,
  value: unknown,
  torn?: Set<string>,
): Promise<void> {
  const path = join(folder, file);
  const previous = tails.get(path) ?? Promise.resolve();
  const appended = previous
    .catch(() => undefined)
    .then(async () => {
      await mkdir(folder, { recursive: true });
      const fresh = torn?.has(path) === true;
      await appendFile(path, `${fresh ? '\n' : ''}${JSON.stringify(value)}\n`);
      torn?.delete(path);
    });
  tails.set(path, appended);
  return appended;
}
