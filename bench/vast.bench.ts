/**
 * `npm run bench -- vast [--rounds N] [--round-ms N] [--variants]`
 *
 * Parses the same in-memory corpus (every valid VAST 2-4 document of
 * ../shared/conformance/vast) with Quartile's engine and with @dailymotion/vast-client
 * (xmldom's DOMParser + VASTParser.parseVAST, no fetcher, so no network), interleaved
 * in one process. `ratio` = our docs/s ÷ vast-client-js's docs/s, from the medians of
 * the per-round rates. Goal (issue 3): ratio ≥ 1.5.
 *
 * `--variants` also times fast-xml-parser alone under each option set, and the parts of
 * our parse (well-formedness check, tree, model walk), to show which options pay.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DOMParser } from '@xmldom/xmldom';
import { VASTParser } from '@dailymotion/vast-client';
import { XMLParser, XMLValidator, type X2jOptions } from 'fast-xml-parser';
import { parseVast } from '../src/ads/vast/index.ts';
import { buildDocument } from '../src/ads/vast/build-model.ts';
import { VAST_PARSER_OPTIONS, vastXmlParser } from '../src/ads/vast/parser-options.ts';
import type { XmlNode } from '../src/ads/vast/xml-node.ts';
import { interleave, round, say, type Contender, type Figures } from './harness.ts';

const CORPUS = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'shared', 'conformance', 'vast');

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? walk(path) : name.endsWith('.xml') ? [path] : [];
  });
}

function flag(args: readonly string[], name: string, fallback: number): number {
  const at = args.indexOf(name);
  const value = at === -1 ? Number.NaN : Number(args[at + 1]);
  return Number.isFinite(value) && value > 0 ? value : fallback;
}

/** Parses with vast-client-js the way its own performance test does. */
async function vastClientParse(xml: string): Promise<{ ads: unknown[] }> {
  const doc = new DOMParser().parseFromString(xml, 'text/xml');
  return (await new VASTParser().parseVAST(doc)) as { ads: unknown[] };
}

export default async function vastBench(args: readonly string[]): Promise<Figures> {
  const rounds = flag(args, '--rounds', 10);
  const roundMs = flag(args, '--round-ms', 300);
  // The valid documents only: both engines reject the broken ones in microseconds.
  const docs = walk(CORPUS)
    .sort()
    .map((path) => readFileSync(path, 'utf8'))
    .filter((xml) => parseVast(xml).errors.length === 0);
  const bytes = docs.reduce((sum, xml) => sum + Buffer.byteLength(xml), 0);
  say(`vast: ${docs.length} documents, ${bytes} bytes, ${rounds} rounds of ${roundMs} ms per contender`);

  // Both engines must really read the documents, not fail fast.
  let oursAds = 0;
  let theirsAds = 0;
  for (const xml of docs) {
    oursAds += parseVast(xml).ads.length;
    theirsAds += (await vastClientParse(xml)).ads.length;
  }
  say(`ads found: quartile ${oursAds}, vast-client-js ${theirsAds}`);

  const quartile: Contender = {
    name: 'quartile',
    opsPerCall: docs.length,
    run: () => {
      for (const xml of docs) parseVast(xml);
    },
  };
  const vastClient: Contender = {
    name: 'vast-client-js',
    opsPerCall: docs.length,
    run: async () => {
      for (const xml of docs) await vastClientParse(xml);
    },
  };
  const variants = args.includes('--variants') ? variantContenders(docs) : [];
  const results = await interleave([quartile, vastClient, ...variants], { rounds, roundMs });
  const ours = results[0]!;
  const theirs = results[1]!;
  for (const r of results) {
    say(`${r.name.padEnd(44)} ${String(round(r.medianOpsPerSec)).padStart(8)} docs/s (median)  ${String(round(r.medianOpsPerSec / theirs.medianOpsPerSec)).padStart(5)}× vast-client-js`);
  }
  const ratio = ours.medianOpsPerSec / theirs.medianOpsPerSec;
  say(`ratio: ${round(ratio)} (goal ≥ 1.5)`);
  return {
    ratio: round(ratio),
    quartileDocsPerSec: round(ours.medianOpsPerSec),
    vastClientDocsPerSec: round(theirs.medianOpsPerSec),
    ratioOfMeans: round(ours.opsPerSec / theirs.opsPerSec),
    docs: docs.length,
    bytes,
    rounds,
  };
}

/**
 * fast-xml-parser alone under cumulative option sets, then the stages of our parse.
 * Each is a contender, interleaved with the two engines, so all share the same noise.
 */
function variantContenders(docs: readonly string[]): Contender[] {
  const steps: [string, Partial<X2jOptions>][] = [
    ['fxp: defaults + attributes', { ignoreAttributes: false }],
    ['fxp: + no value coercion', { parseTagValue: false, parseAttributeValue: false }],
    ['fxp: + processEntities off', { processEntities: false }],
    ['fxp: + isArray for repeating tags', { isArray: (name) => REPEATING.has(name) }],
    ['fxp: + stopNodes Extension', { stopNodes: ['..Extension'] }],
    ['fxp: + jPath off', { jPath: false }],
    ['fxp: + preserveOrder (ordered tree)', { preserveOrder: true, isArray: () => false }],
  ];
  const out: Contender[] = [];
  let options: Partial<X2jOptions> = {};
  for (const [name, step] of steps) {
    options = { ...options, ...step };
    const parser = new XMLParser(options);
    out.push({ name, opsPerCall: docs.length, run: () => docs.forEach((xml) => parser.parse(xml)) });
  }
  const shipped = new XMLParser(VAST_PARSER_OPTIONS);
  out.push({ name: 'fxp: options as shipped', opsPerCall: docs.length, run: () => docs.forEach((xml) => shipped.parse(xml)) });
  out.push({ name: 'stage: XMLValidator.validate', opsPerCall: docs.length, run: () => docs.forEach((xml) => XMLValidator.validate(xml)) });
  const trees = docs.map((xml) => vastXmlParser.parse(xml) as XmlNode[]);
  out.push({ name: 'stage: model walk (build-model.ts)', opsPerCall: docs.length, run: () => trees.forEach((tree) => buildDocument(tree)) });
  return out;
}

// Elements that may repeat, for the isArray variant (the non-ordered output needs them declared).
const REPEATING = new Set([
  'Ad', 'Error', 'Impression', 'Creative', 'Tracking', 'MediaFile', 'Mezzanine', 'InteractiveCreativeFile', 'ClosedCaptionFile',
  'ClickTracking', 'CustomClick', 'Companion', 'NonLinear', 'Icon', 'IconClickTracking', 'IconViewTracking', 'Verification',
  'JavaScriptResource', 'ExecutableResource', 'Extension', 'UniversalAdId', 'Category', 'StaticResource', 'IFrameResource',
  'HTMLResource', 'CompanionClickTracking', 'NonLinearClickTracking', 'Viewable', 'NotViewable', 'ViewUndetermined',
]);
