/**
 * One chaos scenario: a cluster, a simulated live event against it, one fault
 * injected mid-break, and a reconciliation that must come out ok. Prints one line with
 * the scenario's figures.
 */
import { DEFAULT_SIMULATION, type SimulationOptions } from '../../src/simulate/options.ts';
import type { SimulationProgress } from '../../src/simulate/live-event.ts';
import { runSimulation, type SimulationOutcome } from '../../src/simulate/run-simulation.ts';
import type { SimWorld } from '../../src/simulate/world.ts';
import { startChaosCluster, type ChaosCluster, type ClusterOptions, type Part } from './process-cluster.ts';

/** A live event big enough to be mid-break for a while, small enough for two cores. */
export const CHAOS_SIMULATION: SimulationOptions = {
  ...DEFAULT_SIMULATION,
  viewers: 300,
  breaks: 2,
  podSize: 3,
  adDurationSec: 8,
  speed: 4,
  duplicateRate: 0.03,
  badRate: 0.02,
  lateRate: 0.02,
  skipRate: 0.1,
  dropOffRate: 0.05,
  herdJitterMs: 2000,
  cueLeadMs: 2000,
  clients: 4,
};

export interface Scenario {
  readonly name: string;
  readonly cluster?: ClusterOptions;
  readonly simulation?: Partial<SimulationOptions>;
  /** When to strike; default: once 1,500 events were accepted (the first break is playing). */
  readonly when?: (p: Readonly<SimulationProgress>) => boolean;
  /** The fault; resolves when it is over (the part is back, the vendor recovered…). Returns what it did. */
  readonly fault: (cluster: ChaosCluster, world: SimWorld) => Promise<string>;
  /** Which pipeline answers the simulator's observation queries (default the last one). */
  readonly observer?: (cluster: ChaosCluster) => Part;
}

export interface ScenarioResult {
  readonly outcome: SimulationOutcome;
  readonly faultDone: string;
}

export async function runScenario(s: Scenario): Promise<ScenarioResult> {
  const cluster = await startChaosCluster(s.cluster);
  const started = Date.now();
  try {
    let world: SimWorld | undefined;
    let fault: Promise<string> | undefined;
    const observer = (s.observer ?? ((c) => c.pipelines.at(-1)!))(cluster);
    const outcome = await runSimulation(
      { ...CHAOS_SIMULATION, ...s.simulation },
      { kind: 'remote', adsUrl: cluster.adsManager.url, collectorUrl: cluster.collector.url, adminUrl: observer.url, adminToken: cluster.adminToken, adServerPort: cluster.adServerPort },
      {
        onStarted: (w) => {
          world = w;
        },
        onProgress: (p) => {
          if (fault === undefined && world !== undefined && (s.when ?? ((x) => x.eventsAccepted >= 1500))(p)) {
            fault = s.fault(cluster, world).catch((error: unknown) => `fault failed: ${String(error)}`);
          }
        },
        drainTimeoutMs: 240_000,
        stallMs: 150_000,
      },
    );
    const faultDone = fault === undefined ? 'the fault never fired' : await fault;
    const r = outcome.drain.report;
    const sum = (o: Record<string, number>): number => Object.values(o).reduce((a, b) => a + b, 0);
    process.stdout.write(
      `chaos ${s.name}: ${r.ok ? 'ok' : 'NOT OK'} · ${outcome.summary.decisions} decisions (${outcome.summary.decisionsFailed} failed${outcome.summary.decisionsFailed > 0 ? `: ${JSON.stringify(outcome.summary.decisionFailures)}` : ''}) · ${outcome.summary.events} events (+${outcome.summary.duplicates} dup, ${outcome.summary.bad} bad) · ` +
        `${r.observed.billable}/${r.expected.billable} billed · ${sum(r.observed.beacons)}/${sum(r.expected.beacons)} beacons (${sum(r.observed.beaconsRefired)} re-sent identically, ${sum(r.missing.beaconsExplained)} given up) · ` +
        `drained ${outcome.summary.drainSeconds} s · client retries ${outcome.summary.clientRetries} · ${faultDone} · ${Math.round((Date.now() - started) / 1000)} s\n`,
    );
    return { outcome, faultDone };
  } finally {
    await cluster.stop();
  }
}
