/**
 * The benchmark harness. Every benchmark is a module `bench/<name>.bench.ts` whose
 * default export runs the measurement and returns its figures. The runner prints
 * human-readable lines while it runs and ends with ONE JSON line:
 * `{"bench":"<name>", ...figures}`, so CI and people can compare runs.
 *
 * These machines are shared and noisy, so absolute times mean little. Benchmarks
 * compare against a peer or a floor *in the same run*, interleaving rounds so that
 * noise hits both sides alike, and report the ratio.
 */
import { percentile } from '../src/core/percentile.ts';
import { performance } from 'node:perf_hooks';

/** Figures a benchmark returns; they become the final JSON line. */
export type Figures = Readonly<Record<string, number | string | boolean | null>>;

/** What a benchmark module exports by default. */
export type Benchmark = (args: readonly string[]) => Promise<Figures>;

/** One contender in an interleaved comparison: `run` does `opsPerCall` operations. */
export interface Contender {
  readonly name: string;
  readonly opsPerCall: number;
  run(): unknown;
}

/** The result of an interleaved comparison, per contender. */
export interface ContenderResult {
  readonly name: string;
  readonly opsPerSec: number;
  /** Median of the per-round rates; more robust than the mean on a noisy box. */
  readonly medianOpsPerSec: number;
  readonly rounds: number;
}

/** Options for {@link interleave}. */
export interface InterleaveOptions {
  /** Rounds per contender. Each round runs every contender once, in rotating order. */
  readonly rounds?: number;
  /** Wall time each contender gets per round. */
  readonly roundMs?: number;
  /** Untimed calls per contender before measuring (JIT warm-up). */
  readonly warmupCalls?: number;
}

/**
 * Runs the contenders in interleaved rounds (A B C, B C A, C A B, …) and returns
 * the operations per second of each. Synchronous and asynchronous `run`s both work.
 */
export async function interleave(
  contenders: readonly Contender[],
  options: InterleaveOptions = {},
): Promise<ContenderResult[]> {
  const rounds = options.rounds ?? 10;
  const roundMs = options.roundMs ?? 300;
  const warmupCalls = options.warmupCalls ?? 20;
  for (const c of contenders) for (let i = 0; i < warmupCalls; i++) await c.run();

  const totals = contenders.map(() => ({ ops: 0, ms: 0, rates: [] as number[] }));
  for (let r = 0; r < rounds; r++) {
    for (let k = 0; k < contenders.length; k++) {
      const index = (k + r) % contenders.length;
      const c = contenders[index]!;
      const total = totals[index]!;
      let ops = 0;
      const start = performance.now();
      let now = start;
      while (now - start < roundMs) {
        await c.run();
        ops += c.opsPerCall;
        now = performance.now();
      }
      total.ops += ops;
      total.ms += now - start;
      total.rates.push((ops * 1000) / (now - start));
    }
  }
  return contenders.map((c, i) => {
    const t = totals[i]!;
    return { name: c.name, opsPerSec: (t.ops * 1000) / t.ms, medianOpsPerSec: median(t.rates), rounds };
  });
}

/** The median of a list of numbers (NaN for an empty list). */
export function median(values: readonly number[]): number {
  return percentile(values, 50);
}

/** Rounds to a few significant digits for printing. */
export function round(value: number, digits = 3): number {
  if (!Number.isFinite(value)) return value;
  return Number(value.toPrecision(digits));
}

/** Prints one human-readable line of a benchmark's progress. */
export function say(line: string): void {
  process.stdout.write(`${line}\n`);
}

export { percentile };

/**
 * A profile of one measured window, for finding where a benchmark's time goes without
 * its set-up: when `QUARTILE_BENCH_PROFILE_DIR` is set, profiling starts now and the
 * returned function writes `<dir>/<label>.cpuprofile` (open it in Chrome's DevTools).
 * With `QUARTILE_BENCH_PROFILE_KIND=heap` it samples allocations instead and writes
 * `<label>.heapprofile`: where the garbage collector's work comes from. Otherwise both
 * are no-ops.
 */
export async function profileWindow(label: string): Promise<() => Promise<void>> {
  const dir = process.env['QUARTILE_BENCH_PROFILE_DIR'];
  if (dir === undefined || dir === '') return async () => {};
  const heap = process.env['QUARTILE_BENCH_PROFILE_KIND'] === 'heap';
  const { Session } = await import('node:inspector');
  const { mkdirSync, writeFileSync } = await import('node:fs');
  const session = new Session();
  session.connect();
  const post = (method: string, params?: object) =>
    new Promise<unknown>((resolve, reject) => session.post(method, params, (err, result) => (err ? reject(err) : resolve(result))));
  if (heap) await post('HeapProfiler.startSampling', { samplingInterval: 4096, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true });
  else {
    await post('Profiler.enable');
    await post('Profiler.start');
  }
  return async () => {
    const { profile } = (await post(heap ? 'HeapProfiler.stopSampling' : 'Profiler.stop')) as { profile: unknown };
    session.disconnect();
    mkdirSync(dir, { recursive: true });
    const file = `${dir}/${label.replace(/[^a-z0-9]+/gi, '-')}.${heap ? 'heapprofile' : 'cpuprofile'}`;
    writeFileSync(file, JSON.stringify(profile));
    say(`  profile: ${file}`);
  };
}
