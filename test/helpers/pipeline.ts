/**
 * A pipeline test bench: an engine with fixed token keys, a registry entry and a token
 * for it, and helpers to send events through the collector and read what comes out.
 */
import { randomUUID } from 'node:crypto';
import { generateJwk } from '../../src/ads/tokens/keyring.ts';
import { TokenKeyring } from '../../src/ads/tokens/keyring.ts';
import { TokenService } from '../../src/ads/tokens/token-service.ts';
import { MetadataRegistry } from '../../src/ads/registry/metadata-registry.ts';
import type { AdMetadata } from '../../src/ads/registry/ad-metadata.ts';
import type { EventType } from '../../schemas/types.ts';
import { startTestEngine, type BackendSet, type TestEngine } from './engine.ts';
import type { Role } from '../../src/core/roles.ts';
import { sampleMetadata } from './metadata.ts';
import { post } from './http.ts';

/** Token keys shared by a test and its engines. */
export const TEST_JWKS = JSON.stringify({ keys: [generateJwk('t1', Date.UTC(2026, 0, 1))] });
/** Hash keys shared by a test and its engines. */
export const TEST_HASH_KEYS = JSON.stringify([{ kid: 'h1', secret: Buffer.alloc(32, 7).toString('base64url'), createdAt: '2026-01-01T00:00:00Z' }]);

/** Token service with the test keys. */
export function testTokens(binding: 'none' | 'session' = 'none'): TokenService {
  return new TokenService(TokenKeyring.fromJwks(TEST_JWKS), { ttlSeconds: 3600, binding });
}

/** Engine with the test keys and quick session closing. */
export async function startPipelineEngine(set: BackendSet, overrides: Record<string, unknown> = {}, role: Role = 'all'): Promise<TestEngine> {
  return startTestEngine(set, {
    tokens: { jwks: TEST_JWKS },
    pipeline: { hashKeys: TEST_HASH_KEYS, groupId: `pipeline-${randomUUID()}`, ...(overrides['pipeline'] as object) },
    ...Object.fromEntries(Object.entries(overrides).filter(([k]) => k !== 'pipeline')),
  }, { role });
}

/** Stores metadata in the engine's registry and mints a token for it. */
export async function adFor(engine: TestEngine, metadata: Partial<AdMetadata> = {}, seq = 1): Promise<{ mid: string; token: string; metadata: AdMetadata }> {
  const full = sampleMetadata(metadata);
  const mid = await new MetadataRegistry(engine.engine.context.backends.state).put(full);
  const token = await testTokens().mint({ mid, ad: full.adId, cr: full.creativeId, cmp: full.campaignId, seq, brk: null });
  return { mid, token, metadata: full };
}

/** A device event for the collector's POST /v1/events. */
export function playEvent(token: string, session: string, adInstanceId: string, eventType: EventType, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    eventId: randomUUID(),
    eventType,
    token,
    playbackSessionId: session,
    adInstanceId,
    occurredAt: Date.now(),
    device: { deviceId: 'device-raw-123', profileId: 'profile-raw-456', userAgent: 'Roku/DVP-12.0 (12.0.0.4182)', ifa: 'ifa-raw-789' },
    consent: { gdprApplies: false },
    ...extra,
  };
}

/** Sends events through the collector and fails unless all are accepted. */
export async function sendEvents(engine: TestEngine, events: Array<Record<string, unknown>>): Promise<void> {
  const response = await post<{ accepted: number; rejected: unknown[] }>(`${engine.url}/v1/events`, { events }, { headers: { 'x-forwarded-for': '203.0.113.99' } });
  if (response.status !== 200 || response.body.accepted !== events.length) {
    throw new Error(`collector answered ${response.status}: ${JSON.stringify(response.body)}`);
  }
}
