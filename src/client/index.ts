/**
 * `quartile/client`: the typed producer client for Quartile's collector.
 *
 *   import { createTelemetryClient } from 'quartile/client';
 *   const client = createTelemetryClient({ endpoint: 'https://collector.example', apiKey });
 *   client.track({ eventType: 'impression', token, playbackSessionId, adInstanceId });
 *   await client.close();
 */
export { createTelemetryClient, type TelemetryClient, type TelemetryClientOptions } from './telemetry-client.ts';
export type { ClientStats, DropReason, EventRejection, TelemetryEvent } from './types.ts';
