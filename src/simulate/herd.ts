/**
 * The playback service's side of a break: when the break starts, every viewer's player
 * asks for its pod, the herd jittered over a few seconds. A request that is shed or
 * fails is retried a few times with backoff, as a player would, then given up.
 */
import { Pool } from 'undici';
import type { DecisionResponse } from '../ads/decision/decision-response.ts';
import { fullJitterBackoff } from '../core/jitter.ts';

export interface HerdRequest {
  readonly viewer: number;
  /** Epoch ms at which the player asks. */
  readonly atMs: number;
  readonly body: Record<string, unknown>;
}

export interface HerdStats {
  ok: number;
  failed: number;
  retries: number;
  latenciesMs: number[];
  /** Time from the first request to the last answer, summed over breaks. */
  spanMs: number;
  /** Why decisions were given up, by the last answer (`404 LIVE_BREAK_UNKNOWN`, `network`…). */
  failures: Record<string, number>;
}

// A player keeps asking for a few seconds (the break is still on), then plays slate.
const MAX_ATTEMPTS = 8;

/** Sends the herd; calls `onDecision` as answers arrive. Resolves when every viewer has an answer or gave up. */
export async function runHerd(
  pool: Pool,
  requests: readonly HerdRequest[],
  onDecision: (viewer: number, decision: DecisionResponse) => void,
  stats: HerdStats,
  maxInFlight = 256,
): Promise<void> {
  const queue = [...requests].sort((a, b) => a.atMs - b.atMs);
  let next = 0;
  let firstAt = 0;
  let lastAt = 0;
  const one = async (r: HerdRequest): Promise<void> => {
    firstAt ||= Date.now();
    let last = 'network';
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const started = performance.now();
      try {
        const response = await pool.request({ method: 'POST', path: '/v1/decisions', headers: { 'content-type': 'application/json' }, body: JSON.stringify(r.body) });
        const text = await response.body.text();
        if (response.statusCode === 200) {
          stats.latenciesMs.push(performance.now() - started);
          stats.ok++;
          lastAt = Date.now();
          onDecision(r.viewer, JSON.parse(text) as DecisionResponse);
          return;
        }
        last = `${response.statusCode} ${codeOf(text)}`;
        if (response.statusCode < 500 && response.statusCode !== 429) break;
      } catch {
        last = 'network'; // connection refused or reset: retry
      }
      stats.retries++;
      await new Promise((resolve) => setTimeout(resolve, fullJitterBackoff(attempt, 200, 2000)));
    }
    stats.failed++;
    stats.failures[last] = (stats.failures[last] ?? 0) + 1;
  };
  const worker = async (): Promise<void> => {
    while (next < queue.length) {
      const r = queue[next++]!;
      const wait = r.atMs - Date.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      await one(r);
    }
  };
  await Promise.all(Array.from({ length: Math.min(maxInFlight, queue.length) }, worker));
  if (lastAt > firstAt) stats.spanMs += lastAt - firstAt;
}

function codeOf(body: string): string {
  try {
    return String((JSON.parse(body) as { code?: unknown }).code ?? '');
  } catch {
    return '';
  }
}
