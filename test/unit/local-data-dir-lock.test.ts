import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { lockDataDir } from '../../src/local/data-dir-lock';

let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mosaic-lock-'));
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('lockDataDir', () => {
  it('refuses a second claim while the first holds it, saying who holds it and what to do', async () => {
    const release = await lockDataDir(dir);
    expect(await readFile(join(dir, 'mosaic.pid'), 'utf8')).toBe(`${process.pid}\n`);
    await expect(lockDataDir(dir)).rejects.toThrow(
      new RegExp(
        `Another Mosaic runtime \\(process ${process.pid}\\) is using ${dir}\\. Stop it, or give this one a data directory of its own \\(MOSAIC_DATA_DIR\\)`,
      ),
    );
    await release();
    const again = await lockDataDir(dir);
    await again();
  });

  it('takes over a claim left by a process that no longer runs (a crash)', async () => {
    // A process id that was just in use and is gone now.
    const gone = spawnSync(process.execPath, [
      '-e',
      'process.stdout.write(String(process.pid))',
    ]).stdout.toString();
    await writeFile(join(dir, 'mosaic.pid'), `${gone}\n`);
    const release = await lockDataDir(dir);
    expect(await readFile(join(dir, 'mosaic.pid'), 'utf8')).toBe(`${process.pid}\n`);
    await release();
  });

  it('releases only its own claim', async () => {
    const release = await lockDataDir(dir);
    await writeFile(join(dir, 'mosaic.pid'), '1\n');
    await release();
    expect(await readFile(join(dir, 'mosaic.pid'), 'utf8')).toBe('1\n');
  });
});
