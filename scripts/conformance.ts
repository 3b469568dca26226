/**
 * `npm run conformance`: runs the VAST engine over every file of
 * ../shared/conformance/vast and prints one line per file (file, expected, got,
 * PASS/FAIL). Exits non-zero when any file fails or has no expectation.
 *
 * - IAB samples are parsed, not resolved: their wrappers point at remote URLs.
 * - vast-client-js fixtures are resolved: their wrappers point at each other by
 *   relative URI, so the folder is served on 127.0.0.1 and chains are followed for
 *   real (that is how the "unreachable wrapper" and "empty after a wrapper" fixtures
 *   get their codes, as in vast-client-js's own tests).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseVast, resolveVastDocument, type VastResult } from '../src/ads/vast/index.ts';

/** Where the corpus is: ../shared beside the repository root, as in CI. */
export const CORPUS = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'shared', 'conformance', 'vast');

/** The expected IAB codes of one file (empty: a clean parse with at least one ad). */
interface Expectation {
  readonly codes: readonly number[];
  readonly why: string;
}

const CLEAN: Expectation = { codes: [], why: 'valid VAST 2-4' };
const VAST1: Expectation = { codes: [102], why: 'VAST 1.0 (<VideoAdServingTemplate>)' };

// IAB samples: the VAST 1.0 ones (root <VideoAdServingTemplate>) are refused; every other is valid.
const IAB_VAST1 = new Set([
  'vast1Nonlinear.xml',
  'vast1RegularLinear.xml',
  'vast1VPAIDLinear.xml',
  'Tremor-Video-Samples__vast1Nonlinear.xml',
  'Tremor-Video-Samples__vast1RegularLinear.xml',
  'Tremor-Video-Samples__vast1VPAIDLinear.xml',
]);

// vast-client-js fixtures, one by one, with the code its own tests expect where broken.
const VAST_CLIENT_JS: Readonly<Record<string, Expectation>> = {
  'empty-no-ad.xml': { codes: [303], why: 'no <Ad> at all' },
  'empty-no-creative.xml': { codes: [303], why: 'an InLine with an empty <Creatives>' },
  'invalid-xmlfile.xml': { codes: [100], why: 'not XML' },
  'outdated-vast.xml': VAST1,
  'inline-linear.xml': CLEAN,
  'sample.xml': CLEAN,
  'vpaid.xml': CLEAN,
  'vpaid2.xml': CLEAN,
  'wrapper-a.xml': { codes: [], why: 'two wrappers, resolved through wrapper-b.xml and vpaid.xml' },
  'wrapper-b.xml': { codes: [], why: 'wrapper resolved to sample.xml' },
  'wrapper-legacy.xml': { codes: [], why: 'VAST 2 wrapper with the VAST 1 <VASTAdTagURL><URL>' },
  'wrapper-multiple-ads.xml': { codes: [], why: 'four wrappers with allowMultipleAds, all resolved' },
  'wrapper-attributes-multiple-ads.xml': {
    codes: [303],
    why: 'ad 202 has followAdditionalWrappers="false" and its response (wrapper-b.xml) is a wrapper',
  },
  'wrapper-empty.xml': { codes: [303], why: 'its VASTAdTagURI answers empty-no-ad.xml' },
  'wrapper-empty-no-creative.xml': { codes: [303], why: 'its VASTAdTagURI answers an InLine with no creative' },
  'wrapper-unavailable-url.xml': { codes: [301], why: 'its VASTAdTagURI "invalid-url" answers 404' },
};

/** The decision for one corpus file, or undefined when nobody has decided yet. */
function expectationFor(path: string): Expectation | undefined {
  const [folder, ...rest] = path.split('/');
  const name = rest.at(-1) ?? '';
  if (folder === 'iab') return IAB_VAST1.has(name) ? VAST1 : CLEAN;
  if (folder === 'vast-client-js') return VAST_CLIENT_JS[name];
  return undefined;
}

/** One line of the report. */
export interface ConformanceRow {
  readonly file: string;
  readonly expected: string;
  readonly got: string;
  readonly pass: boolean;
}

/** Runs the whole corpus and returns one row per file, in path order. */
export async function runConformance(corpus = CORPUS): Promise<ConformanceRow[]> {
  const files = walk(corpus)
    .map((p) => relative(corpus, p).split('\\').join('/'))
    .sort();
  const server = await serveFolder(join(corpus, 'vast-client-js'));
  try {
    const rows: ConformanceRow[] = [];
    for (const file of files) {
      const xml = readFileSync(join(corpus, file), 'utf8');
      const resolve = file.startsWith('vast-client-js/');
      const result = resolve
        ? await resolveVastDocument(xml, `${server.base}/${file.slice('vast-client-js/'.length)}`, { allowPrivateNetwork: true })
        : parseVast(xml);
      rows.push(judge(file, expectationFor(file), result));
    }
    return rows;
  } finally {
    await server.close();
  }
}

function judge(file: string, expectation: Expectation | undefined, result: VastResult): ConformanceRow {
  const codes = [...new Set(result.errors.map((e) => e.code))].sort((a, b) => a - b);
  const got = `${codes.length === 0 ? 'no errors' : codes.join(',')}, ${result.ads.length} ad(s)`;
  if (expectation === undefined) return { file, expected: 'NO EXPECTATION: decide one in scripts/conformance.ts', got, pass: false };
  const clean = expectation.codes.length === 0;
  const pass = clean ? codes.length === 0 && result.ads.length > 0 : codes.join(',') === [...expectation.codes].sort((a, b) => a - b).join(',');
  const expected = `${clean ? 'no errors, 1+ ad(s)' : expectation.codes.join(',')} (${expectation.why})`;
  return { file, expected, got: pass || clean ? got : `${got}: ${result.errors.map((e) => `${e.code} ${e.message}`).join(' | ')}`, pass };
}

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return walk(path);
    return name.endsWith('.xml') ? [path] : [];
  });
}

/** Serves a folder on 127.0.0.1; unknown files answer 404. */
async function serveFolder(dir: string): Promise<{ base: string; close(): Promise<void> }> {
  const server = createServer((request, response) => {
    const name = decodeURIComponent(new URL(request.url ?? '/', 'http://localhost').pathname.slice(1));
    if (name.includes('/') || name.includes('..')) {
      response.writeHead(404).end();
      return;
    }
    readFile(join(dir, name)).then(
      (body) => response.writeHead(200, { 'content-type': 'application/xml' }).end(body),
      () => response.writeHead(404).end(),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    base: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const rows = await runConformance();
  const width = Math.max(...rows.map((r) => r.file.length));
  for (const row of rows) {
    process.stdout.write(`${row.pass ? 'PASS' : 'FAIL'}  ${row.file.padEnd(width)}  expected: ${row.expected}  got: ${row.got}\n`);
  }
  const failed = rows.filter((r) => !r.pass).length;
  process.stdout.write(`\n${rows.length} files, ${rows.length - failed} passed, ${failed} failed.\n`);
  process.exitCode = failed === 0 ? 0 : 1;
}
