/** Every way an event can be wrong gets its own stable code and a message naming the field. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { validateEvent, type IntakeContext } from '../../../src/collector/validate-event.ts';

const NOW = Date.UTC(2026, 10, 25, 20, 0, 0);
const ctx: IntakeContext = {
  now: NOW,
  maxEventAgeMs: 24 * 3600 * 1000,
  maxClockSkewMs: 3600 * 1000,
  requestIp: '198.51.100.4',
  requestUserAgent: 'Player/1.0',
  trustedProducer: false,
  producer: null,
  country: 'DE',
};

function good(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    eventId: '0b7e6f2a-8f5e-4c1e-9a51-2d0d8a3f9c11',
    eventType: 'impression',
    token: 'tok',
    playbackSessionId: 'pbs',
    adInstanceId: 'ai',
    occurredAt: NOW - 1000,
    ...overrides,
  };
}

describe('validateEvent', () => {
  it('accepts a minimal event and stamps what only the collector knows', () => {
    const result = validateEvent(good(), ctx);
    assert.ok(result.ok);
    assert.equal(result.event.receivedAt, NOW);
    assert.equal(result.event.country, 'DE', 'country comes from the edge header, not the body');
    assert.equal(result.event.device.ip, '198.51.100.4', 'a device’s address is the one the collector saw');
    assert.equal(result.event.device.userAgent, 'Player/1.0');
    assert.deepEqual(result.event.consent, { gdprApplies: null, tcf: null, gpp: null, gppSid: [], limitAdTracking: false });
    assert.equal(result.event.live, null);
  });

  it('accepts ISO 8601 times, GPP section ids as "2,6", and upper-case UUIDs (normalised)', () => {
    const result = validateEvent(
      good({ occurredAt: new Date(NOW - 5000).toISOString(), eventId: '0B7E6F2A-8F5E-4C1E-9A51-2D0D8A3F9C11', consent: { gppSid: '2,6', gdprApplies: true, tcf: 'CP' } }),
      ctx,
    );
    assert.ok(result.ok);
    assert.equal(result.event.occurredAt, NOW - 5000);
    assert.equal(result.event.eventId, '0b7e6f2a-8f5e-4c1e-9a51-2d0d8a3f9c11');
    assert.deepEqual(result.event.consent.gppSid, [2, 6]);
  });

  it('keeps a device address reported by a trusted server-side producer, and ignores it from devices', () => {
    const event = good({ device: { ip: '203.0.113.9' } });
    assert.equal((validateEvent(event, { ...ctx, trustedProducer: true }) as { event: { device: { ip: string } } }).event.device.ip, '203.0.113.9');
    assert.equal((validateEvent(event, ctx) as { event: { device: { ip: string } } }).event.device.ip, '198.51.100.4');
  });

  const cases: Array<[string, unknown, string, RegExp]> = [
    ['a non-object', 'impression', 'EVENT_NOT_OBJECT', /JSON object/],
    ['an array', [], 'EVENT_NOT_OBJECT', /array/],
    ['no eventId', good({ eventId: undefined }), 'EVENT_MISSING_FIELD', /eventId/],
    ['an eventId that is not a UUID', good({ eventId: '123' }), 'EVENT_BAD_ID', /UUID/],
    ['a numeric token', good({ token: 42 }), 'EVENT_BAD_TYPE', /token must be a string/],
    ['an empty session id', good({ playbackSessionId: '' }), 'EVENT_MISSING_FIELD', /playbackSessionId/],
    ['no adInstanceId', good({ adInstanceId: null }), 'EVENT_MISSING_FIELD', /adInstanceId/],
    ['an unknown event type', good({ eventType: 'impresion' }), 'EVENT_UNKNOWN_EVENT_TYPE', /impresion/],
    ['no occurredAt', good({ occurredAt: undefined }), 'EVENT_MISSING_FIELD', /occurredAt/],
    ['an occurredAt without a time zone', good({ occurredAt: '2026-11-25T20:00:00' }), 'EVENT_BAD_VALUE', /time zone/],
    ['an occurredAt as a float', good({ occurredAt: 1.5 }), 'EVENT_BAD_VALUE', /occurredAt/],
    ['an event two days old', good({ occurredAt: NOW - 48 * 3600 * 1000 }), 'EVENT_TOO_OLD', /in the past/],
    ['an event two hours ahead', good({ occurredAt: NOW + 2 * 3600 * 1000 }), 'EVENT_IN_FUTURE', /device clock/],
    ['a negative playhead', good({ adPlayheadMs: -1 }), 'EVENT_BAD_VALUE', /adPlayheadMs/],
    ['an error without its code', good({ eventType: 'error' }), 'EVENT_MISSING_FIELD', /errorCode/],
    ['an error code out of range', good({ eventType: 'error', errorCode: 42 }), 'EVENT_BAD_VALUE', /errorCode/],
    ['a typo in a field name', good({ occuredAt: 1 }), 'EVENT_UNKNOWN_FIELD', /occuredAt/],
    ['a country from the device', good({ country: 'US' }), 'EVENT_UNKNOWN_FIELD', /set by the collector/],
    ['receivedAt from the device', good({ receivedAt: NOW }), 'EVENT_UNKNOWN_FIELD', /set by the collector/],
    ['an unknown device field', good({ device: { imei: '1' } }), 'EVENT_UNKNOWN_FIELD', /device\.imei/],
    ['device as a string', good({ device: 'roku' }), 'EVENT_BAD_TYPE', /device must be an object/],
    ['gdprApplies as a string', good({ consent: { gdprApplies: 'yes' } }), 'EVENT_BAD_TYPE', /consent\.gdprApplies/],
    ['bad GPP section ids', good({ consent: { gppSid: ['x'] } }), 'EVENT_BAD_VALUE', /gppSid/],
    ['a live context without its event', good({ live: { breakId: 'b' } }), 'EVENT_MISSING_FIELD', /live\.liveEventId/],
    ['an app without a name', good({ app: { version: '1' } }), 'EVENT_MISSING_FIELD', /app\.name/],
    ['a 3 KiB token', good({ token: 'x'.repeat(3000) }), 'EVENT_TOO_LONG', /token is 3000 characters/],
    // Each field has its own limit; the device's user agent and the consent strings are long ones.
    ['a 1025-character user agent', good({ device: { userAgent: 'u'.repeat(1025) } }), 'EVENT_TOO_LONG', /device\.userAgent is 1025 characters; the limit is 1024/],
    ['a 257-character device id', good({ device: { deviceId: 'd'.repeat(257) } }), 'EVENT_TOO_LONG', /device\.deviceId is 257 characters; the limit is 256/],
    ['a 4097-character TCF string', good({ consent: { tcf: 'C'.repeat(4097) } }), 'EVENT_TOO_LONG', /consent\.tcf is 4097 characters; the limit is 4096/],
    ['a 129-character session id', good({ playbackSessionId: 'p'.repeat(129) }), 'EVENT_TOO_LONG', /playbackSessionId is 129 characters; the limit is 128/],
    ['a 257-character app name', good({ app: { name: 'a'.repeat(257) } }), 'EVENT_TOO_LONG', /app\.name is 257 characters; the limit is 256/],
  ];
  for (const [what, input, code, message] of cases) {
    it(`rejects ${what} with ${code}`, () => {
      const result = validateEvent(input, ctx);
      assert.ok(!result.ok, 'rejected');
      assert.equal(result.rejection.code, code);
      assert.match(result.rejection.message, message);
    });
  }
});
