/**
 * `npm run bench -- NAME [args…]`: runs bench/NAME.bench.ts and ends its output with
 * one JSON line holding the benchmark's figures, `{"bench":"NAME",…}`.
 */
import { readdirSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { join } from 'node:path';
import type { Benchmark } from './harness.ts';

const dir = fileURLToPath(new URL('.', import.meta.url));
const available = readdirSync(dir)
  .filter((f) => f.endsWith('.bench.ts'))
  .map((f) => f.slice(0, -'.bench.ts'.length))
  .sort();

const [name, ...args] = process.argv.slice(2);
if (name === undefined || !available.includes(name)) {
  process.stderr.write(
    `${name === undefined ? 'Name a benchmark' : `No benchmark named "${name}"`}. ` +
      `Run one of: ${available.map((n) => `npm run bench -- ${n}`).join(', ')}\n`,
  );
  process.exit(2);
}
const mod = (await import(pathToFileURL(join(dir, `${name}.bench.ts`)).href)) as { default: Benchmark };
const figures = await mod.default(args);
process.stdout.write(`${JSON.stringify({ bench: name, ...figures })}\n`);
process.exit(0);
