import { readFile, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

const LOCK_FILE = 'mosaic.pid';

/**
 * Claims a data directory for one runtime: `<dataDir>/mosaic.pid` holds the owner's process id. The
 * stream's log, the lake writer's staging files and dynalite's database each assume a single writer; a
 * second runtime on the same folder is refused with a clear error before it touches any of them. A
 * file left by a process that no longer runs (a crash) is taken over. Resolves with the release.
 */
export async function lockDataDir(dataDir: string): Promise<() => Promise<void>> {
  const path = join(dataDir, LOCK_FILE);
  const release = async () => {
    const owner = await readFile(path, 'utf8').catch(() => '');
    if (owner.trim() === String(process.pid)) await unlink(path).catch(() => undefined);
  };
  for (let attempt = 0; ; attempt++) {
    try {
      await writeFile(path, `${process.pid}\n`, { flag: 'wx' });
      return release;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const owner = Number.parseInt(await readFile(path, 'utf8').catch(() => ''), 10);
    // A second try that finds a claim again: a runtime starting at the same moment took the folder.
    if (attempt > 0 || (Number.isInteger(owner) && owner > 0 && isRunning(owner))) {
      throw new Error(
        `Another Mosaic runtime (process ${owner}) is using ${dataDir}. Stop it, or give this one a data directory of its own (MOSAIC_DATA_DIR). If no Mosaic runs, delete ${path}.`,
      );
    }
    // Left by a process that is gone (a crash): take it over.
    await unlink(path).catch(() => undefined);
  }
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it runs, under another user.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
