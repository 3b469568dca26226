/**
 * Reachability of the Confluent-compatible schema registry, for /readyz. (Encoding
 * and decoding through the registry live with the Avro codecs.)
 */
import { request } from 'undici';
import { QuartileError, messageOf } from '../core/errors.ts';

/** Credentials and address of the registry. */
export interface SchemaRegistryTarget {
  readonly url: string;
  readonly username: string;
  readonly password: string;
}

/** Throws SCHEMA_REGISTRY_UNAVAILABLE unless GET /subjects answers 200 in time. */
export async function pingSchemaRegistry(target: SchemaRegistryTarget, timeoutMs = 2_000): Promise<void> {
  const headers: Record<string, string> = { accept: 'application/vnd.schemaregistry.v1+json, application/json' };
  if (target.username !== '') {
    headers['authorization'] = `Basic ${Buffer.from(`${target.username}:${target.password}`).toString('base64')}`;
  }
  try {
    const response = await request(`${target.url.replace(/\/$/, '')}/subjects`, {
      headers,
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
      signal: AbortSignal.timeout(timeoutMs),
    });
    await response.body.dump();
    if (response.statusCode !== 200) throw new Error(`HTTP ${response.statusCode}`);
  } catch (cause) {
    throw new QuartileError('SCHEMA_REGISTRY_UNAVAILABLE', `Schema registry at ${new URL(target.url).origin} is not answering: ${messageOf(cause)}`, {
      retriable: true,
      cause,
    });
  }
}
