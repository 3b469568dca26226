/**
 * Reports what went wrong in a decision to the parties that asked to hear it: every
 * VAST error's Error URIs (the wrappers' involved, outermost first, then the ad's or
 * document's own) and the Error URIs of ads that could not be played, each with
 * [ERRORCODE] filled in, fired through the beacon dispatcher on the device's behalf.
 *
 * Firing never delays a decision: it runs in the background, bounded, and whatever
 * cannot be queued is dropped and counted (errors are diagnostics, not billing).
 */
import pLimit from 'p-limit';
import type { BeaconDevice, BeaconDispatcher } from '../../beacons/dispatcher.ts';
import type { Metrics } from '../../telemetry/metrics.ts';
import { expandMacros, type MacroValues, type VastError } from '../vast/index.ts';
import type { FailedAd } from './candidates.ts';

/** Options of the reporter. */
export interface ErrorReporterOptions {
  /** False: count errors, fire nothing (`ads.fireErrorUris`). */
  readonly fire: boolean;
  /** Beacons in flight at once. */
  readonly concurrency: number;
  /** Beacons waiting beyond which new ones are dropped. */
  readonly maxQueued: number;
}

export class ErrorReporter {
  readonly #dispatcher: BeaconDispatcher;
  readonly #metrics: Metrics;
  readonly #options: ErrorReporterOptions;
  readonly #limit;
  readonly #pending = new Set<Promise<void>>();

  constructor(dispatcher: BeaconDispatcher, metrics: Metrics, options: ErrorReporterOptions) {
    this.#dispatcher = dispatcher;
    this.#metrics = metrics;
    this.#options = options;
    this.#limit = pLimit(options.concurrency);
  }

  /** Counts the errors and fires their Error URIs in the background. */
  report(errors: readonly VastError[], failed: readonly FailedAd[], macros: MacroValues, device: BeaconDevice | undefined): void {
    const fires: Array<{ template: string; code: number }> = [];
    for (const error of errors) {
      this.#metrics.adsVastErrors.inc({ code: String(error.code), reason: error.reason });
      for (const template of error.errorUris) fires.push({ template, code: error.code });
    }
    for (const ad of failed) {
      this.#metrics.adsVastErrors.inc({ code: String(ad.code), reason: ad.reason });
      for (const template of ad.ad.errorUris) fires.push({ template, code: ad.code });
    }
    if (!this.#options.fire) return;
    for (const { template, code } of fires) {
      if (this.#limit.pendingCount >= this.#options.maxQueued) {
        this.#metrics.adsErrorBeacons.inc({ outcome: 'dropped' });
        continue;
      }
      const url = expandMacros(template, { ...macros, ERRORCODE: code });
      const task = this.#limit(async () => {
        const outcome = await this.#dispatcher.fire(url, device === undefined ? {} : { device });
        this.#metrics.adsErrorBeacons.inc({ outcome: outcome.outcome });
      });
      this.#pending.add(task);
      void task.finally(() => this.#pending.delete(task));
    }
  }

  /** Resolves when every beacon fired so far has an outcome. */
  async settle(): Promise<void> {
    while (this.#pending.size > 0) await Promise.allSettled([...this.#pending]);
  }
}
