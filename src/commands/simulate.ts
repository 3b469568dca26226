/**
 * `quartile simulate live-event`: plays a live event against the engine — the live
 * origin, the playback service's herd, the devices, an ad server and the vendors — then
 * waits for the pipeline to drain and reconciles. `quartile simulate engine-config`
 * prints the settings a running engine needs to take part.
 */
import { join } from 'node:path';
import { createLogger } from '../telemetry/logger.ts';
import { DEFAULT_SIMULATION, checkSimulationOptions, type SimulationOptions } from '../simulate/options.ts';
import { formatReconcile } from '../simulate/reconcile.ts';
import { campaignTable } from '../warehouse/reports/campaign-table.ts';
import { ProgressView } from '../simulate/progress-view.ts';
import { runSimulation, type EngineTarget, type SimulationOutcome } from '../simulate/run-simulation.ts';
import { writeTruthFile } from '../simulate/truth-file.ts';
import { simulationEngineConfig } from '../simulate/world.ts';
import type { Command, CommandIo } from './command.ts';
import { UsageError, cliConfig, parseFlags } from './shared.ts';

const DEFAULT_AD_SERVER_PORT = 8090;
const DEFAULT_ENGINE_URL = 'http://127.0.0.1:8080';

const NUMERIC = {
  viewers: 'viewers',
  breaks: 'breaks',
  'pod-size': 'podSize',
  'duplicate-rate': 'duplicateRate',
  'bad-rate': 'badRate',
  'late-rate': 'lateRate',
  'skip-rate': 'skipRate',
  'drop-off-rate': 'dropOffRate',
  seed: 'seed',
  'ad-duration': 'adDurationSec',
  speed: 'speed',
  'herd-jitter-ms': 'herdJitterMs',
  clients: 'clients',
} as const satisfies Record<string, keyof SimulationOptions>;

const usage = `Usage: quartile simulate live-event [options]
       quartile simulate engine-config [--ad-server-port P]

Plays a live event against the engine over its real HTTP APIs — the live origin's cues,
the playback service's herd of decisions, devices reporting through quartile/client, a
local VAST ad server and local vendor endpoints — then waits for the pipeline to drain
and reconciles what it produced with the simulation's ground truth. Exit code 0 when
the reconciliation is ok.

  --viewers N            viewers in the herd (default ${DEFAULT_SIMULATION.viewers})
  --breaks K             ad breaks (default ${DEFAULT_SIMULATION.breaks})
  --pod-size M           ads per break (default ${DEFAULT_SIMULATION.podSize})
  --duplicate-rate P     events re-sent with the same id (default ${DEFAULT_SIMULATION.duplicateRate})
  --bad-rate P           ad plays with an extra malformed or tampered event (default ${DEFAULT_SIMULATION.badRate})
  --late-rate P          quartiles sent after their session closed (default ${DEFAULT_SIMULATION.lateRate})
  --skip-rate P          ads skipped (default ${DEFAULT_SIMULATION.skipRate})
  --drop-off-rate P      viewers leaving mid-break (default ${DEFAULT_SIMULATION.dropOffRate})
  --seed S               the same seed plays the same event (default ${DEFAULT_SIMULATION.seed})
  --speed X              playback runs X times faster than real time (default ${DEFAULT_SIMULATION.speed})
  --ad-duration S        ad length in seconds (default ${DEFAULT_SIMULATION.adDurationSec})
  --engine URL           the running engine to play against (default ${DEFAULT_ENGINE_URL}); needs QUARTILE_ADMIN_TOKEN
  --embedded             instead, start an engine in this process on the embedded defaults, in a fresh data directory
  --collector URL, --ads URL   when those roles run elsewhere than --engine
  --ad-server-port P     where the simulation's ad server listens with --engine (default ${DEFAULT_AD_SERVER_PORT})
  --truth FILE           where to write the ground truth for \`quartile reconcile\`
  --drain-timeout S      give up waiting for the pipeline after S seconds (default 300)
  --json                 print the summary, then the reconciliation as the last line, as JSON

A running engine must know the simulation's ad server and vendors: start it with the
settings \`quartile simulate engine-config\` prints (as a --config file).`;

function numberFlag(name: string, raw: string): number {
  const n = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(n)) throw new UsageError(`--${name} takes a number; got "${raw}".`);
  return n;
}

/** Prints the outcome; returns the exit code. */
export function printOutcome(outcome: SimulationOutcome, json: boolean, io: CommandIo): number {
  const { summary, drain } = outcome;
  if (json) {
    io.stdout.write(`${JSON.stringify({ simulation: summary, campaigns: drain.observation.campaigns })}\n`);
    io.stdout.write(`${JSON.stringify(drain.report)}\n`);
  } else {
    io.stdout.write(
      `\nLive event ${summary.liveEventId}: ${summary.viewers} viewers × ${summary.breaks} breaks × ${summary.podSize} ads\n` +
        `  herd       ${summary.decisions} decisions (${summary.decisionsFailed} failed), ~${summary.herdDecisionsPerSec}/s, p99 ${summary.herdP99Ms} ms\n` +
        `  devices    ${summary.events} events (+${summary.duplicates} retried duplicates, ${summary.late} late, ${summary.bad} bad), ~${summary.eventsPerSec}/s\n` +
        `  pipeline   peak lag ${summary.peakLag}, drained ${summary.drainSeconds} s after the first break\n\n` +
        `${formatReconcile(drain.report)}\n\n` +
        `Campaigns of ${summary.liveEventId}, from ClickHouse:\n${campaignTable(drain.observation.campaigns).join('\n')}\n`,
    );
  }
  return drain.report.ok ? 0 : 1;
}

export const simulateCommand: Command = {
  name: 'simulate',
  summary: 'Play a live event against the engine and reconcile what it produced',
  usage,
  async run(args, io) {
    const { values, positionals } = parseFlags(args, {
      ...Object.fromEntries(Object.keys(NUMERIC).map((k) => [k, { type: 'string' }])),
      embedded: { type: 'boolean' },
      engine: { type: 'string' },
      collector: { type: 'string' },
      ads: { type: 'string' },
      'ad-server-port': { type: 'string' },
      truth: { type: 'string' },
      'drain-timeout': { type: 'string' },
      json: { type: 'boolean' },
    } as const);
    const flags = values as Record<string, string | boolean | undefined>;
    if (values.help) {
      io.stdout.write(`${usage}\n`);
      return 0;
    }
    const what = positionals[0];
    const adServerPort = flags['ad-server-port'] === undefined ? DEFAULT_AD_SERVER_PORT : numberFlag('ad-server-port', String(flags['ad-server-port']));
    if (what === 'engine-config') {
      io.stdout.write(`${JSON.stringify(simulationEngineConfig(`http://127.0.0.1:${adServerPort}/vast?brk=[QUARTILE_BREAK_ID]`), null, 2)}\n`);
      return 0;
    }
    if (what !== 'live-event') throw new UsageError(`Say what to simulate: \`quartile simulate live-event\` (or engine-config); got "${what ?? ''}".`);

    const options: Record<string, number> = { ...DEFAULT_SIMULATION };
    for (const [flag, key] of Object.entries(NUMERIC)) {
      const raw = flags[flag];
      if (typeof raw === 'string') options[key] = numberFlag(flag, raw);
    }
    const sim = options as unknown as SimulationOptions;
    const problem = checkSimulationOptions(sim);
    if (problem !== undefined) throw new UsageError(`${problem}.`);

    const config = cliConfig(values.config);
    if (typeof flags['engine'] === 'string' && flags['embedded'] === true) throw new UsageError('Choose one of --engine URL and --embedded.');
    const engineUrl = flags['embedded'] === true ? undefined : typeof flags['engine'] === 'string' ? flags['engine'] : DEFAULT_ENGINE_URL;
    let target: EngineTarget;
    if (engineUrl === undefined) {
      target = { kind: 'in-process', configFile: values.config, logger: createLogger({ level: 'warn', destination: io.stderr }), port: config.http.port };
    } else {
      if (config.admin.token === '') {
        throw new UsageError(
          `Set QUARTILE_ADMIN_TOKEN to the admin token of the engine at ${engineUrl}: the simulator reads what the engine produced through its operator API. Or run \`quartile simulate live-event --embedded\` to play against an engine in this process.`,
        );
      }
      target = {
        kind: 'remote',
        adsUrl: typeof flags['ads'] === 'string' ? flags['ads'] : engineUrl,
        collectorUrl: typeof flags['collector'] === 'string' ? flags['collector'] : engineUrl,
        adminUrl: engineUrl,
        adminToken: config.admin.token,
        adServerPort,
      };
    }
    const drainTimeout = flags['drain-timeout'] === undefined ? 300 : numberFlag('drain-timeout', String(flags['drain-timeout']));
    io.stderr.write(`Simulating a live event: ${sim.viewers} viewers, ${sim.breaks} breaks of ${sim.podSize} ads, seed ${sim.seed}${target.kind === 'in-process' ? ', on an engine in this process' : ` against ${engineUrl}`}\n`);
    const outcome = await runSimulation(sim, target, {
      view: new ProgressView(io.stderr as NodeJS.WritableStream & { isTTY?: boolean }),
      drainTimeoutMs: drainTimeout * 1000,
      onStarted: (_world, engine) => {
        if (engine !== undefined) io.stderr.write(`Engine up at ${engine.url} — /readyz, /metrics, and the Control Room at / while the event plays.\n`);
      },
    });
    try {
      const truthPath = typeof flags['truth'] === 'string' ? flags['truth'] : join(config.dataDir, 'simulations', `${outcome.run.liveEventId}.json`);
      writeTruthFile(truthPath, sim, outcome.run, outcome.world.hits, outcome.drain.report.observed.beaconsRefired);
      if (!values.json) io.stderr.write(`Ground truth written to ${truthPath} (quartile reconcile --truth ${truthPath})\n`);
      return printOutcome(outcome, values.json === true, io);
    } finally {
      await outcome.engine?.stop();
    }
  },
};
