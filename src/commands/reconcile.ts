/**
 * `quartile reconcile --truth FILE [--engine URL]`: compares a simulation's ground truth
 * with what a running engine produced — billable rows, sessions, vendor beacons, dead
 * letters and rejected events — and prints {expected, observed, missing, duplicated, ok}.
 */
import { existsSync } from 'node:fs';
import { drainAndReconcile } from '../simulate/drain.ts';
import { formatReconcile } from '../simulate/reconcile.ts';
import { remoteObserve } from '../simulate/remote-observe.ts';
import { readTruthFile } from '../simulate/truth-file.ts';
import type { Command } from './command.ts';
import { UsageError, cliConfig, parseFlags } from './shared.ts';

const usage = `Usage: quartile reconcile --truth FILE [--engine URL] [--json] [--wait S]

Compares the ground truth a simulation wrote (quartile simulate live-event --truth FILE)
with what the engine at --engine (default http://127.0.0.1:8080) produced: billable
impressions in ClickHouse, ad sessions, the beacons each vendor endpoint accepted,
and the dead-letter and rejected topics by reason code. Needs QUARTILE_ADMIN_TOKEN.
Exit code 0 when nothing is missing or doubled.

  --wait S   keep polling up to S seconds while the engine is still catching up (default 0)`;

export const reconcileCommand: Command = {
  name: 'reconcile',
  summary: 'Compare a simulation’s ground truth with what the engine produced',
  usage,
  async run(args, io) {
    const { values } = parseFlags(args, { truth: { type: 'string' }, engine: { type: 'string' }, json: { type: 'boolean' }, wait: { type: 'string' } });
    if (values.help) {
      io.stdout.write(`${usage}\n`);
      return 0;
    }
    if (values.truth === undefined) throw new UsageError('Give the ground truth file: --truth FILE (quartile simulate prints where it wrote it).');
    if (!existsSync(values.truth)) throw new UsageError(`There is no file ${values.truth}; run quartile simulate live-event --truth ${values.truth} first.`);
    const config = cliConfig(values.config);
    if (config.admin.token === '') throw new UsageError('Set QUARTILE_ADMIN_TOKEN to the engine’s admin token: reconcile reads what the engine produced through its operator API.');
    const wait = Number(values.wait ?? 0);
    if (!Number.isFinite(wait) || wait < 0) throw new UsageError(`--wait takes seconds; got "${values.wait}".`);
    const { run, hits, refired } = readTruthFile(values.truth);
    const observe = remoteObserve(values.engine ?? 'http://127.0.0.1:8080', config.admin.token);
    const result = await drainAndReconcile({ ...run, lastEventAt: Date.now() }, hits, observe, { timeoutMs: wait * 1000, stallMs: wait * 1000, refired: () => refired });
    io.stdout.write(values.json ? `${JSON.stringify(result.report)}\n` : `${formatReconcile(result.report)}\n`);
    return result.report.ok ? 0 : 1;
  },
};
