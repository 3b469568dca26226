/**
 * A simulated live event against an engine's real HTTP APIs: for each break the live
 * origin cues it, the playback service's herd asks for pods when it starts, and the
 * devices play and report. Resolves once every device event has been handed to the
 * producer client and the clients have flushed.
 */
import { randomBytes } from 'node:crypto';
import { Pool, request } from 'undici';
import { createTelemetryClient, type TelemetryClient, type TelemetryEvent } from '../client/index.ts';
import type { DecisionResponse } from '../ads/decision/decision-response.ts';
import { consentClassOf, deviceOf, viewerOfUserAgent } from './devices.ts';
import { GroundTruth } from './ground-truth.ts';
import { runHerd, type HerdRequest, type HerdStats } from './herd.ts';
import type { SimulationOptions } from './options.ts';
import { playViewer, type PlayContext } from './player.ts';
import { Scheduler } from './scheduler.ts';
import { planViewer, type ViewerPlan } from './viewer-plan.ts';

/** Where the simulation sends its traffic. */
export interface SimulationEndpoints {
  /** The Ads Manager (decisions and cues). */
  readonly adsUrl: string;
  /** The collector (device telemetry). */
  readonly collectorUrl: string;
}

/** Live figures for progress display. */
export interface SimulationProgress {
  phase: 'cue' | 'herd' | 'playback' | 'flush' | 'done';
  breakIndex: number;
  decisions: number;
  decisionsExpected: number;
  eventsScheduled: number;
  eventsAccepted: number;
}

/** A finished run. */
export interface LiveEventRun {
  readonly runKey: string;
  readonly liveEventId: string;
  readonly truth: GroundTruth;
  readonly herd: HerdStats;
  /** When the first break started (epoch ms). */
  readonly firstBreakAt: number;
  /** When the last event was accepted by the collector (epoch ms). */
  readonly lastEventAt: number;
  readonly clientRetries: number;
}

async function postJson(url: string, body: unknown): Promise<{ status: number; text: string }> {
  const response = await request(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: response.statusCode, text: await response.body.text() };
}

/**
 * Sends a cue, retrying like a live origin while the Ads Manager answers 503 (its
 * event log down, say) until the break would be over, then waits (up to the break
 * start) for the prefetched plan. A break whose cue never got through still happens:
 * the herd then gets per-viewer decisions. Returns whether the cue was taken.
 */
async function cueBreak(adsUrl: string, liveEventId: string, breakId: string, startsAt: number, durationMs: number, podSize: number): Promise<boolean> {
  let taken = false;
  while (!taken && Date.now() < startsAt + durationMs) {
    const answer = await postJson(`${adsUrl}/v1/live/cues`, { liveEventId, breakId, startsAt, durationMs, podMaxAds: podSize }).catch((e: unknown) => ({ status: 0, text: String(e) }));
    taken = answer.status === 202 || answer.status === 200;
    if (!taken && answer.status >= 400 && answer.status < 500) throw new Error(`the Ads Manager refused the cue of ${breakId}: ${answer.status} ${answer.text}`);
    if (!taken) await new Promise((r) => setTimeout(r, 500));
  }
  while (taken && Date.now() < startsAt) {
    const plan = await request(`${adsUrl}/v1/live/breaks/${encodeURIComponent(breakId)}`).catch(() => undefined);
    await plan?.body.dump();
    if (plan?.statusCode === 200) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  return taken;
}

/** Plays the live event. */
export async function playLiveEvent(
  options: SimulationOptions,
  endpoints: SimulationEndpoints,
  onProgress: (p: Readonly<SimulationProgress>) => void = () => {},
  runKey: string = randomBytes(4).toString('hex'),
): Promise<LiveEventRun> {
  const liveEventId = `sim-${options.seed}-${runKey}`;
  const truth = new GroundTruth({ viewers: options.viewers, breaks: options.breaks, podSize: options.podSize });
  const scheduler = new Scheduler();
  const consentOfViewer = (viewer: number) => consentClassOf(options.seed, viewer);
  const forget = (events: readonly TelemetryEvent[]): void => {
    for (const e of events) {
      const viewer = viewerOfUserAgent(e.device?.userAgent ?? '');
      if (viewer !== undefined && e.eventId !== undefined && !truth.bad.has(e.eventId)) truth.forget(e.eventId, consentOfViewer(viewer));
    }
  };
  const progress: SimulationProgress = { phase: 'cue', breakIndex: 0, decisions: 0, decisionsExpected: options.viewers * options.breaks, eventsScheduled: 0, eventsAccepted: 0 };
  let lastEventAt = 0;
  const collectorPool = new Pool(endpoints.collectorUrl, { connections: options.clients, pipelining: 1 });
  const clients: TelemetryClient[] = Array.from({ length: options.clients }, () =>
    createTelemetryClient({
      endpoint: endpoints.collectorUrl,
      dispatcher: collectorPool,
      gzip: false,
      maxBatchEvents: 250,
      flushIntervalMs: 50,
      maxQueueEvents: 5_000_000,
      retryMaxMs: 5000,
      onRejected: (rejections) => forget(rejections.map((r) => r.event)),
      onDropped: (events) => forget(events),
    }),
  );
  const accepted = (): number => clients.reduce((n, c) => n + c.stats().accepted + c.stats().rejected, 0);
  const ticker = setInterval(() => {
    const now = accepted();
    if (now > progress.eventsAccepted) lastEventAt = Date.now();
    progress.eventsAccepted = now;
    onProgress(progress);
  }, 250);

  const adsPool = new Pool(endpoints.adsUrl, { connections: 64 });
  const herd: HerdStats = { ok: 0, failed: 0, retries: 0, latenciesMs: [], spanMs: 0, failures: {} };
  const play: PlayContext = { options, runKey, liveEventId, truth, scheduler, clients, consentOf: consentOfViewer };
  const podRealMs = (options.podSize * options.adDurationSec * 1000) / options.speed;
  let firstBreakAt = 0;
  try {
    for (let b = 0; b < options.breaks; b++) {
      progress.phase = 'cue';
      progress.breakIndex = b;
      const breakId = `${liveEventId}.b${b}`;
      const startsAt = Date.now() + options.cueLeadMs;
      firstBreakAt ||= startsAt;
      // The cue carries the break's length in content time: the Ads Manager fits the pod into it.
      await cueBreak(endpoints.adsUrl, liveEventId, breakId, startsAt, options.podSize * options.adDurationSec * 1000, options.podSize);
      progress.phase = 'herd';
      const plans: ViewerPlan[] = [];
      const requests: HerdRequest[] = [];
      for (let viewer = 0; viewer < options.viewers; viewer++) {
        const plan = planViewer(options, viewer, b);
        plans.push(plan);
        const device = deviceOf(runKey, viewer);
        requests.push({
          viewer,
          atMs: startsAt + plan.decisionDelayMs,
          body: {
            playbackSessionId: `ps-${runKey}-${viewer}-${b}`,
            contentId: 'sim-live-final',
            breakPosition: 'midroll',
            liveEventId,
            breakId,
            device: { userAgent: device.userAgent, deviceId: device.deviceId, profileId: device.profileId },
            consent: { gdprApplies: false },
          },
        });
      }
      await runHerd(adsPool, requests, (viewer: number, decision: DecisionResponse) => {
        progress.decisions++;
        playViewer(play, viewer, b, decision, plans[viewer]!);
        progress.eventsScheduled = scheduler.pending;
      }, herd);
      progress.phase = 'playback';
      // The next break follows once this one's pods have played.
      if (b + 1 < options.breaks) await new Promise((r) => setTimeout(r, podRealMs));
    }
    await scheduler.idle();
    progress.phase = 'flush';
    await Promise.all(clients.map((c) => c.close()));
    lastEventAt = Date.now();
  } finally {
    clearInterval(ticker);
    scheduler.stop();
    await adsPool.close();
    await collectorPool.close();
  }
  truth.sent.decisions = herd.ok;
  truth.sent.decisionsFailed = herd.failed;
  progress.phase = 'done';
  progress.eventsAccepted = accepted();
  onProgress(progress);
  return { runKey, liveEventId, truth, herd, firstBreakAt, lastEventAt, clientRetries: clients.reduce((n, c) => n + c.stats().retries, 0) };
}
