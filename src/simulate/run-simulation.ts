/**
 * One whole simulation: the world (ad server, vendors), the engine (in-process on the
 * embedded defaults, or a running one), the live event, the drain and the
 * reconciliation. `quartile simulate live-event`, `npm start`, the chaos suite and the
 * surge benchmark all run this.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { COMPONENT_FACTORIES } from '../core/components.ts';
import { startEngine, type Engine } from '../core/engine.ts';
import { loadConfig } from '../config/load.ts';
import type { Logger } from '../telemetry/logger.ts';
import { drainAndReconcile, type DrainResult, type Observe } from './drain.ts';
import { playLiveEvent, type LiveEventRun, type SimulationProgress } from './live-event.ts';
import { observeLiveEvent } from './observation.ts';
import type { SimulationOptions } from './options.ts';
import { percentile } from '../core/percentile.ts';
import { ProgressView } from './progress-view.ts';
import { remoteObserve, scrapeLag } from './remote-observe.ts';
import { simulationEngineConfig, startWorld, type SimWorld } from './world.ts';
import { SIM_VENDORS } from './sim-vendors.ts';

/** Where the engine is. */
export type EngineTarget =
  /**
   * An engine started in this process, role all, in a fresh data directory: on the
   * embedded defaults, or on the services `env` names (QUARTILE_* variables; default
   * the process environment).
   */
  | {
      readonly kind: 'in-process';
      readonly configFile?: string | undefined;
      readonly logger: Logger;
      readonly env?: Readonly<Record<string, string | undefined>>;
      /** HTTP port of the engine; default any free one. When taken, any free one is used. */
      readonly port?: number;
    }
  | { readonly kind: 'remote'; readonly adsUrl: string; readonly collectorUrl: string; readonly adminUrl: string; readonly adminToken: string; readonly adServerPort: number };

export interface SimulationSummary {
  readonly liveEventId: string;
  readonly viewers: number;
  readonly breaks: number;
  readonly podSize: number;
  readonly decisions: number;
  readonly decisionsFailed: number;
  /** Why decisions failed, by status and reason code. */
  readonly decisionFailures: Readonly<Record<string, number>>;
  readonly herdDecisionsPerSec: number;
  readonly herdP99Ms: number;
  readonly events: number;
  readonly duplicates: number;
  readonly late: number;
  readonly bad: number;
  readonly eventsPerSec: number;
  readonly peakLag: number;
  readonly drainSeconds: number;
  readonly beaconsPerSec: number;
  readonly clientRetries: number;
  readonly reconcileOk: boolean;
}

export interface SimulationOutcome {
  readonly summary: SimulationSummary;
  readonly drain: DrainResult;
  readonly run: LiveEventRun;
  readonly world: SimWorld;
  /** The in-process engine, still running: the caller stops it. */
  readonly engine?: Engine;
}

export interface SimulationHooks {
  /** Called once the engine and world are up, before the first cue (the chaos suite injects faults from here). */
  readonly onStarted?: (world: SimWorld, engine: Engine | undefined) => void | Promise<void>;
  readonly onProgress?: (p: Readonly<SimulationProgress>) => void;
  /** Progress display (stderr in the CLI); omit for none. */
  readonly view?: ProgressView;
  readonly drainTimeoutMs?: number;
  readonly stallMs?: number;
}

/** Runs a simulation. The world is closed before it returns; an embedded engine is returned running. */
export async function runSimulation(options: SimulationOptions, target: EngineTarget, hooks: SimulationHooks = {}): Promise<SimulationOutcome> {
  const world = await startWorld(options, target.kind === 'remote' ? target.adServerPort : 0);
  let engine: Engine | undefined;
  try {
    let adsUrl: string;
    let collectorUrl: string;
    let metricsUrl: string;
    let observe: Observe;
    if (target.kind === 'in-process') {
      const dataDir = mkdtempSync(join(tmpdir(), 'quartile-sim-'));
      const configFor = (port: number) =>
        loadConfig({
          file: target.configFile,
          ...(target.env === undefined ? {} : { env: target.env }),
          overrides: { ...simulationEngineConfig(world.adServer.sourceUrl), dataDir, http: { port } },
        });
      try {
        engine = await startEngine({ config: configFor(target.port ?? 0), role: 'all', logger: target.logger, components: COMPONENT_FACTORIES });
      } catch (error) {
        if ((error as { code?: unknown }).code !== 'EADDRINUSE') throw error;
        engine = await startEngine({ config: configFor(0), role: 'all', logger: target.logger, components: COMPONENT_FACTORIES });
      }
      await engine.setupDone;
      adsUrl = collectorUrl = metricsUrl = engine.url;
      const ctx = engine.context;
      observe = (id, since, level) => observeLiveEvent(ctx.backends, ctx.codec, id, since, level);
    } else {
      ({ adsUrl, collectorUrl } = target);
      metricsUrl = target.adminUrl;
      observe = remoteObserve(target.adminUrl, target.adminToken);
    }
    await hooks.onStarted?.(world, engine);

    let peakLag = 0;
    let lag: number | undefined;
    const lagTimer = setInterval(() => {
      void scrapeLag(metricsUrl).then((l) => {
        lag = l;
        if (l !== undefined) peakLag = Math.max(peakLag, l);
      });
    }, 1000);
    let run: LiveEventRun;
    let drain: DrainResult;
    try {
      run = await playLiveEvent(options, { adsUrl, collectorUrl }, (p) => {
        hooks.onProgress?.(p);
        hooks.view?.update({ progress: p, lag });
      });
      hooks.view?.done();
      drain = await drainAndReconcile(run, world.hits, observe, {
        refired: () => Object.fromEntries(world.vendors.map((v) => [v.name, v.hits().refired])),
        ...(hooks.drainTimeoutMs === undefined ? {} : { timeoutMs: hooks.drainTimeoutMs }),
        ...(hooks.stallMs === undefined ? {} : { stallMs: hooks.stallMs }),
        onPoll: (p) => hooks.view?.update({ lag, billed: p.billed, billable: p.billable, beacons: p.beacons, beaconsExpected: p.beaconsExpected }),
      });
      hooks.view?.done();
    } finally {
      clearInterval(lagTimer);
    }
    const sendSpan = Math.max(1, (run.lastEventAt - run.firstBreakAt) / 1000);
    const beaconsFired = SIM_VENDORS.reduce((n, v) => n + (drain.report.observed.beacons[v.name] ?? 0), 0);
    const summary: SimulationSummary = {
      liveEventId: run.liveEventId,
      viewers: options.viewers,
      breaks: options.breaks,
      podSize: options.podSize,
      decisions: run.herd.ok,
      decisionsFailed: run.herd.failed,
      decisionFailures: run.herd.failures,
      herdDecisionsPerSec: Math.round(run.herd.ok / Math.max(0.001, run.herd.spanMs / 1000)),
      herdP99Ms: run.herd.latenciesMs.length === 0 ? 0 : Math.round(percentile(run.herd.latenciesMs, 99) * 10) / 10,
      events: run.truth.sent.events,
      duplicates: run.truth.sent.duplicates,
      late: run.truth.sent.late,
      bad: run.truth.sent.bad,
      eventsPerSec: Math.round((run.truth.sent.events + run.truth.sent.duplicates + run.truth.sent.bad) / sendSpan),
      peakLag,
      drainSeconds: Math.round(drain.drainSeconds * 10) / 10,
      beaconsPerSec: Math.round(beaconsFired / Math.max(1, drain.drainSeconds)),
      clientRetries: run.clientRetries,
      reconcileOk: drain.report.ok,
    };
    return { summary, drain, run, world, ...(engine === undefined ? {} : { engine }) };
  } catch (error) {
    await engine?.stop();
    throw error;
  } finally {
    await world.close();
  }
}
