#!/usr/bin/env node
// The `mosaic` command (package.json "bin"; `npx mosaic`, `npm run -s mosaic -- ...`). The CLI is
// TypeScript (src/cli/mosaic.ts); like `npm start`, this launcher bundles it with esbuild — a
// devDependency that `npm install` installs — into node_modules/.cache/mosaic/, and runs the bundle.
// The bundle is made again only when a file it was built from has changed since, so a call costs a
// few stat() calls, not a build. Dependencies (commander, zod) load from node_modules as they are.
import { mkdir, readFile, rename, stat, utimes, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const cacheDir = join(root, 'node_modules', '.cache', 'mosaic');
const bundlePath = join(cacheDir, 'cli.mjs');
/** The files the bundle was built from (esbuild's metafile inputs), relative to the repository. */
const inputsPath = join(cacheDir, 'cli.inputs.json');

/** The bundle exists and no file it was built from is newer (or gone). */
async function isFresh() {
  try {
    const [bundle, inputs] = await Promise.all([stat(bundlePath), readFile(inputsPath, 'utf8')]);
    const stats = await Promise.all(JSON.parse(inputs).map((file) => stat(join(root, file))));
    return stats.every((input) => input.mtimeMs <= bundle.mtimeMs);
  } catch {
    return false;
  }
}

async function bundle() {
  let esbuild;
  try {
    esbuild = await import('esbuild');
  } catch {
    process.stderr.write(
      `mosaic: the CLI is bundled on first use with esbuild, which is missing: run \`npm install\` (with dev dependencies) in ${root}\n`,
    );
    process.exit(5);
  }
  // Sources changed while building are newer than the bundle's time and trigger the next build.
  const startedAt = new Date();
  const result = await esbuild.build({
    entryPoints: [join(root, 'src', 'cli', 'mosaic.ts')],
    absWorkingDir: root,
    outfile: bundlePath,
    write: false,
    metafile: true,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    sourcemap: 'inline',
    logLevel: 'warning',
  });
  const output = result.outputFiles?.[0];
  if (output === undefined) throw new Error('esbuild wrote no bundle');
  await mkdir(cacheDir, { recursive: true });
  // Written aside and renamed, so a `mosaic` started meanwhile never loads half a file.
  const suffix = `.${process.pid}.tmp`;
  await writeFile(inputsPath + suffix, JSON.stringify(Object.keys(result.metafile.inputs)));
  await writeFile(bundlePath + suffix, output.contents);
  await utimes(bundlePath + suffix, startedAt, startedAt);
  await rename(inputsPath + suffix, inputsPath);
  await rename(bundlePath + suffix, bundlePath);
}

if (!(await isFresh())) await bundle();
process.setSourceMapsEnabled(true);
const cli = await import(pathToFileURL(bundlePath).href);
await cli.main();
