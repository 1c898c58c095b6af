// Writes the JSON Schemas of the bus events' details (docs/schemas/*.json) from their zod schemas in
// src/core/events/bus-events.ts. Run after changing a detail schema: `npx tsx scripts/write-event-schemas.ts`;
// `--check` only reports files that differ (exit 1), as test/unit/event-schemas.test.ts does.
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BUS_EVENT_CATALOGUE, busEventJsonSchema, renderJsonSchema } from '../src/core/events/bus-events';

const folder = join(dirname(fileURLToPath(import.meta.url)), '..', 'docs', 'schemas');
const check = process.argv.includes('--check');

mkdirSync(folder, { recursive: true });
const stale: string[] = [];
for (const entry of BUS_EVENT_CATALOGUE) {
  const path = join(folder, entry.file);
  const text = renderJsonSchema(busEventJsonSchema(entry));
  let current: string | undefined;
  try {
    current = readFileSync(path, 'utf8');
  } catch {
    current = undefined;
  }
  if (current === text) continue;
  stale.push(entry.file);
  if (!check) writeFileSync(path, text);
}
const expected = new Set(BUS_EVENT_CATALOGUE.map((entry) => entry.file));
const extra = readdirSync(folder).filter((file) => file.endsWith('.json') && !expected.has(file));

if (check) {
  for (const file of stale) console.error(`docs/schemas/${file} differs from its zod schema`);
  for (const file of extra) console.error(`docs/schemas/${file} is not in the event catalogue`);
  process.exit(stale.length + extra.length > 0 ? 1 : 0);
}
for (const file of stale) console.log(`wrote docs/schemas/${file}`);
for (const file of extra) console.warn(`docs/schemas/${file} is not in the event catalogue: remove it`);
