/**
 * A simulation's ground truth and vendor hits on disk, so `quartile reconcile` can
 * compare them with the engine again later (after a replay of dead letters, say).
 * Beacon grids are stored as base64 of their counters.
 */
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { BeaconGrid } from './beacon-grid.ts';
import { GroundTruth } from './ground-truth.ts';
import type { LiveEventRun } from './live-event.ts';
import type { SimulationOptions } from './options.ts';
import { SIM_VENDORS } from './sim-vendors.ts';

interface TruthFile {
  readonly version: 1;
  readonly options: SimulationOptions;
  readonly runKey: string;
  readonly liveEventId: string;
  readonly firstBreakAt: number;
  readonly lastEventAt: number;
  readonly billable: string[];
  readonly bad: Array<[string, string]>;
  readonly sessions: GroundTruth['sessions'];
  readonly sent: GroundTruth['sent'];
  readonly grids: Record<'expected' | 'suppressed' | 'hits', Record<string, string>>;
  readonly refired: Record<string, number>;
}

const encodeGrid = (grid: BeaconGrid): Record<string, string> => Object.fromEntries(SIM_VENDORS.map((v) => [v.name, Buffer.from(grid.cells(v.name)).toString('base64')]));

function decodeGrid(into: BeaconGrid, data: Record<string, string>): void {
  for (const v of SIM_VENDORS) {
    const bytes = Buffer.from(data[v.name] ?? '', 'base64');
    const cells = into.cells(v.name);
    if (bytes.length !== cells.length) throw new Error(`the truth file's ${v.name} grid does not match its options`);
    cells.set(bytes);
  }
}

export function writeTruthFile(path: string, options: SimulationOptions, run: LiveEventRun, hits: BeaconGrid, refired: Record<string, number>): void {
  const file: TruthFile = {
    version: 1,
    options,
    runKey: run.runKey,
    liveEventId: run.liveEventId,
    firstBreakAt: run.firstBreakAt,
    lastEventAt: run.lastEventAt,
    billable: [...run.truth.billable],
    bad: [...run.truth.bad],
    sessions: run.truth.sessions,
    sent: run.truth.sent,
    grids: { expected: encodeGrid(run.truth.expected), suppressed: encodeGrid(run.truth.suppressed), hits: encodeGrid(hits) },
    refired,
  };
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, JSON.stringify(file));
}

export function readTruthFile(path: string): { run: Pick<LiveEventRun, 'runKey' | 'liveEventId' | 'truth' | 'firstBreakAt' | 'lastEventAt'>; hits: BeaconGrid; refired: Record<string, number>; options: SimulationOptions } {
  const file = JSON.parse(readFileSync(path, 'utf8')) as TruthFile;
  if (file.version !== 1) throw new Error(`${path} is not a Quartile simulation truth file (version ${String(file.version)})`);
  const shape = { viewers: file.options.viewers, breaks: file.options.breaks, podSize: file.options.podSize };
  const truth = new GroundTruth(shape);
  decodeGrid(truth.expected, file.grids.expected);
  decodeGrid(truth.suppressed, file.grids.suppressed);
  for (const id of file.billable) truth.billable.add(id);
  for (const [id, code] of file.bad) truth.bad.set(id, code);
  Object.assign(truth.sessions, file.sessions);
  Object.assign(truth.sent, file.sent);
  const hits = new BeaconGrid(shape);
  decodeGrid(hits, file.grids.hits);
  return { run: { runKey: file.runKey, liveEventId: file.liveEventId, truth, firstBreakAt: file.firstBreakAt, lastEventAt: file.lastEventAt }, hits, refired: file.refired, options: file.options };
}
