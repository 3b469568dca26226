/**
 * Starts an engine in the `ads-manager` role for Ads Manager tests: loopback ad
 * servers allowed (the SSRF guard is off only here, explicitly), and a cue consumer
 * group of its own so each engine reads live.cues from the start.
 */
import { startTestEngine, type BackendSet, type TestEngine } from '../../helpers/engine.ts';
import { uniqueName } from '../../helpers/wait.ts';

/** An Ads Manager on `set` with these `ads`, `live` and other config overrides. */
export function startAdsManager(
  set: BackendSet,
  overrides: { ads?: Record<string, unknown>; live?: Record<string, unknown>; [section: string]: unknown } = {},
): Promise<TestEngine> {
  const { ads = {}, live = {}, ...rest } = overrides;
  return startTestEngine(
    set,
    { ...rest, ads: { allowPrivateNetwork: true, ...ads }, live: { cueGroupId: uniqueName('cues'), ...live } },
    { role: 'ads-manager' },
  );
}
