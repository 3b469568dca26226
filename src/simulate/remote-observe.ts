/** The engine's observation of a live event through its operator API (admin token). */
import { request } from 'undici';
import type { Observe } from './drain.ts';
import type { Observation } from './observation.ts';

export function remoteObserve(engineUrl: string, adminToken: string): Observe {
  return async (liveEventId, sinceMs, level) => {
    const url = `${engineUrl.replace(/\/$/, '')}/v1/admin/live-events/${encodeURIComponent(liveEventId)}/observation?since=${Math.floor(sinceMs)}&level=${level}`;
    const response = await request(url, { headers: { authorization: `Bearer ${adminToken}`, 'x-quartile-operator': 'simulator' }, headersTimeout: 120_000, bodyTimeout: 120_000 });
    const text = await response.body.text();
    if (response.statusCode !== 200) throw new Error(`the engine answered ${response.statusCode} for the observation: ${text.slice(0, 300)}`);
    return JSON.parse(text) as Observation;
  };
}

/** Total consumer lag the engine reports on /metrics (undefined when it does not run a pipeline). */
export async function scrapeLag(engineUrl: string): Promise<number | undefined> {
  try {
    const response = await request(`${engineUrl.replace(/\/$/, '')}/metrics`, { headersTimeout: 2000, bodyTimeout: 2000 });
    const text = await response.body.text();
    let total: number | undefined;
    for (const line of text.split('\n')) {
      if (!line.startsWith('quartile_consumer_lag')) continue;
      const value = Number(line.slice(line.lastIndexOf(' ') + 1));
      if (Number.isFinite(value)) total = (total ?? 0) + value;
    }
    return total;
  } catch {
    return undefined;
  }
}
