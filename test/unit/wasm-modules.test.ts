import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compileModule, WASM_MODULES } from '../../scripts/build-wasm';

const root = join(import.meta.dirname, '..', '..');

describe('WebAssembly modules (wasm/ built into src/ by npm run build:wasm)', () => {
  it.each(WASM_MODULES.map((entry) => [entry.module, entry] as const))(
    'checked-in %s is what its source compiles to',
    async (module, entry) => {
      expect(readFileSync(join(root, module), 'utf8')).toBe(await compileModule(entry));
    },
    60_000,
  );
});
