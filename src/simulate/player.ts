/**
 * The devices: once a viewer has its pod, its player plays the plan — quartiles at
 * their playheads, skips, drop-offs, retries that repeat an event id, late events,
 * clock skew and the odd bad event — and reports through the producer client, the
 * way a device SDK back end does. Everything it sends is recorded in the ground truth.
 */
import type { DecisionAd, DecisionResponse } from '../ads/decision/decision-response.ts';
import type { TelemetryClient, TelemetryEvent } from '../client/index.ts';
import { consentOf, deviceOf, type ConsentClass } from './devices.ts';
import { badEventIdOf, eventIdOf } from './event-ids.ts';
import { BAD_EVENT_CODES, type GroundTruth } from './ground-truth.ts';
import type { SimulationOptions } from './options.ts';
import type { Scheduler } from './scheduler.ts';
import type { SimEventType } from './sim-vendors.ts';
import type { ViewerPlan } from './viewer-plan.ts';

/** After its pod, a late event waits this long (real ms), so its ad session has closed. */
const LATE_AFTER_MS = 1500;

export interface PlayContext {
  readonly options: SimulationOptions;
  readonly runKey: string;
  readonly liveEventId: string;
  readonly truth: GroundTruth;
  readonly scheduler: Scheduler;
  readonly clients: readonly TelemetryClient[];
  readonly consentOf: (viewer: number) => ConsentClass;
}

/** Alters the ciphertext of a compact JWE so that it no longer authenticates. */
export function tamper(token: string): string {
  const parts = token.split('.');
  const ciphertext = parts[3] ?? '';
  const i = Math.floor(ciphertext.length / 2);
  parts[3] = `${ciphertext.slice(0, i)}${ciphertext[i] === 'A' ? 'B' : 'A'}${ciphertext.slice(i + 1)}`;
  return parts.join('.');
}

/** Schedules one viewer's break, starting now. */
export function playViewer(ctx: PlayContext, viewer: number, breakIndex: number, decision: DecisionResponse, plan: ViewerPlan): void {
  const { options, truth, scheduler } = ctx;
  const client = ctx.clients[viewer % ctx.clients.length]!;
  const consentClass = ctx.consentOf(viewer);
  const device = deviceOf(ctx.runKey, viewer);
  const consent = consentOf(consentClass);
  const live = { liveEventId: ctx.liveEventId, breakId: decision.breakId ?? '' };
  const bySequence = new Map<number, DecisionAd>(decision.ads.map((ad) => [ad.sequence, ad]));
  const started = Date.now();
  const realMs = (simMs: number): number => started + simMs / options.speed;
  const lastAt = realMs(Math.max(0, ...plan.events.map((e) => e.atMs)));

  const typesPerAd = new Map<number, Set<SimEventType>>();
  for (const planned of plan.events) {
    const ad = bySequence.get(planned.sequence);
    if (ad === undefined) continue; // the pod came back shorter: the player plays what it got
    const cell = truth.expected.cell(viewer, breakIndex, planned.sequence, planned.type);
    if (cell === undefined) continue;
    const eventId = eventIdOf(ctx.runKey, cell);
    const plannedAt = realMs(planned.atMs);
    const event: TelemetryEvent = {
      eventId,
      eventType: planned.type,
      token: ad.token,
      playbackSessionId: decision.playbackSessionId,
      adInstanceId: `${decision.playbackSessionId}-${planned.sequence}`,
      occurredAt: Math.round(plannedAt + plan.skewMs),
      adPlayheadMs: planned.playheadMs,
      device,
      consent,
      live,
    };
    truth.recordEvent(eventId, cell, planned.type, consentClass);
    truth.sent.events++;
    let types = typesPerAd.get(planned.sequence);
    if (types === undefined) typesPerAd.set(planned.sequence, (types = new Set()));
    types.add(planned.type);
    const sendAt = planned.late ? lastAt + LATE_AFTER_MS : plannedAt;
    if (planned.late) truth.sent.late++;
    scheduler.at(sendAt, () => client.track(event));
    if (planned.duplicate) {
      truth.sent.duplicates++;
      scheduler.at(sendAt + 200, () => client.track(event));
    }
  }
  for (const types of typesPerAd.values()) truth.recordSession(types);
  truth.sent.adPlays += typesPerAd.size;

  plan.bad.forEach((b, n) => {
    const ad = bySequence.get(b.sequence);
    if (ad === undefined) return;
    const eventId = badEventIdOf(ctx.runKey, viewer, breakIndex, n);
    truth.recordBad(eventId, BAD_EVENT_CODES[b.kind]);
    const event: TelemetryEvent = {
      eventId,
      // A malformed event names a type that does not exist; TelemetryEvent cannot say that.
      eventType: (b.kind === 'malformed' ? 'impresion' : 'impression') as TelemetryEvent['eventType'],
      token: b.kind === 'tampered' ? tamper(ad.token) : ad.token,
      playbackSessionId: decision.playbackSessionId,
      adInstanceId: `${decision.playbackSessionId}-${b.sequence}-bad`,
      adPlayheadMs: 0,
      device,
      consent,
      live,
    };
    scheduler.at(realMs(b.atMs), () => client.track({ ...event, occurredAt: Date.now() + plan.skewMs }));
  });
}
