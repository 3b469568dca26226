/**
 * The device events of the collector benchmark, shared by the load generator (which
 * POSTs them) and the bench process (which encodes the same shape for the floor).
 */
import { randomUUID } from 'node:crypto';

const EVENT_TYPES = ['impression', 'start', 'firstQuartile', 'midpoint', 'thirdQuartile', 'complete', 'progress', 'heartbeat', 'creativeView', 'click'] as const;

/** A token shaped like the Ads Manager's JWE compact tokens (about 330 characters). */
function fakeToken(): string {
  const b64 = (n: number): string => Buffer.from(randomUUID().repeat(Math.ceil(n / 36)).slice(0, n)).toString('base64url');
  return `eyJhbGciOiJkaXIiLCJlbmMiOiJBMjU2R0NNIiwia2lkIjoiazIwMjYtMTEifQ..${b64(12)}.${b64(170)}.${b64(16)}`;
}

/**
 * One request body: `events` device events from `events / 10` playback sessions, with
 * the fields a CTV device really sends (ids, a token, consent strings, app).
 */
export function buildBody(events: number, now: number): Record<string, unknown> {
  const list: Record<string, unknown>[] = [];
  let session = '';
  let ad = '';
  let token = '';
  for (let i = 0; i < events; i++) {
    if (i % 10 === 0) {
      session = `pbs-${randomUUID()}`;
      ad = `${session}-ad${i / 10}`;
      token = fakeToken();
    }
    list.push({
      eventId: randomUUID(),
      eventType: EVENT_TYPES[i % EVENT_TYPES.length],
      token,
      playbackSessionId: session,
      adInstanceId: ad,
      occurredAt: now - 2_000 + i,
      adPlayheadMs: (i % 10) * 3_750,
      device: { ifa: randomUUID(), ifaType: 'rida', deviceId: `dev-${i % 97}`, profileId: `prof-${i % 13}`, userAgent: 'Roku/DVP-13.0 (13.0.0.4201-46)' },
      consent: { gdprApplies: true, tcf: 'CQHyFAAQHyFAAAKA1AENBJFsAP_gAEPgAAqIKWtR_G__bWlr-X73aftkeY1P9_h77sQxBhfJE-4FzLvW_JwXx2ExNA36tqIKmRIAu3bBIQNlGJDUTVCgaogVryDMak2coTNKJ6BkiFMRO2dYCF5vmwtj-QKY5vr993dx2D-t_dv83dzyz4VHn3a5_2e0WJCdA58tDfv9bROb-9IPd_58v4v0_F_rk2_eT1l_tevp7D9-ct87_XW-9_fff79Ll9-gA', gppSid: [2], limitAdTracking: false },
      app: { name: 'quartile-bench', version: '13.2.1' },
    });
  }
  return { events: list };
}

