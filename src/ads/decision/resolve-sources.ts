/**
 * Fetches every ad source for one decision (or one prefetched cohort) through the
 * VAST engine: concurrently, at most `maxConcurrentSources` at a time, each within its
 * own deadline, wrapper chains followed. A slow or broken source is left out; its
 * errors come back with their IAB codes.
 */
import pLimit from 'p-limit';
import { expandMacros, resolveVast, type Ad, type MacroValues, type VastError } from '../vast/index.ts';
import type { AdSourceConfig } from './ad-sources.ts';

/** How sources are fetched. */
export interface SourceFetchOptions {
  readonly sourceTimeoutMs: number;
  readonly requestTimeoutMs: number;
  readonly maxConcurrentSources: number;
  readonly wrapperLimit: number;
  readonly allowPrivateNetwork: boolean;
}

/** What one source gave. */
export interface SourceResult {
  readonly sourceId: string;
  readonly ads: readonly Ad[];
  readonly errors: readonly VastError[];
}

/** Resolves every source; the results keep the sources' (priority) order. */
export async function resolveSources(
  sources: readonly AdSourceConfig[],
  macros: MacroValues,
  headers: Readonly<Record<string, string>>,
  options: SourceFetchOptions,
): Promise<SourceResult[]> {
  const limit = pLimit(options.maxConcurrentSources);
  return Promise.all(
    sources.map((source) =>
      limit(async (): Promise<SourceResult> => {
        const timeoutMs = source.timeoutMs ?? options.sourceTimeoutMs;
        const result = await resolveVast(expandMacros(source.url, macros), {
          timeoutMs: Math.min(options.requestTimeoutMs, timeoutMs),
          deadlineMs: timeoutMs,
          wrapperLimit: options.wrapperLimit,
          allowPrivateNetwork: options.allowPrivateNetwork,
          // Error URIs are fired by the Ads Manager through the beacon dispatcher, once
          // the pod is known, so that unplayable ads are reported the same way.
          fireErrors: false,
          macros,
          headers,
        });
        return { sourceId: source.id, ads: result.ads, errors: result.errors };
      }),
    ),
  );
}
