/** Sample records for tests, built from the generated schema types. */
import { randomUUID } from 'node:crypto';
import type { AdEvent } from '../../schemas/types.ts';

/** A complete, valid raw AdEvent; override any field. */
export function sampleAdEvent(overrides: Partial<AdEvent> = {}): AdEvent {
  return {
    eventId: randomUUID(),
    eventType: 'impression',
    token: 'eyJhbGciOiJkaXIiLCJlbmMiOiJBMjU2R0NNIiwia2lkIjoiazEifQ..iv.ct.tag',
    playbackSessionId: 'pbs-1',
    adInstanceId: 'ai-1',
    occurredAt: 1_764_000_000_000,
    receivedAt: 1_764_000_000_250,
    adPlayheadMs: null,
    errorCode: null,
    device: { ip: '203.0.113.7', userAgent: 'Roku/DVP-12.0', ifa: null, ifaType: null, deviceId: 'dev-1', profileId: 'prof-1' },
    consent: { gdprApplies: false, tcf: null, gpp: null, gppSid: [], limitAdTracking: false },
    live: { liveEventId: 'final-2026', breakId: 'b1' },
    country: 'US',
    app: { name: 'streamer', version: '5.1.0' },
    producer: null,
    ...overrides,
  };
}

/** A decoded Avro record as a plain object (avsc returns class instances), for deep equality. */
export function plain<T>(record: T): T {
  return JSON.parse(JSON.stringify(record)) as T;
}
