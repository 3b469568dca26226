/**
 * The state of one ad session (one play of one ad), kept in the state seam so a
 * rebalance or restart loses nothing, and the fold of one event into it.
 */
import type { AdSession, EventType, LiveContext } from '../../schemas/types.ts';

/** Stored per ad instance under `ses:<adInstanceId>`. */
export interface SessionState {
  adInstanceId: string;
  playbackSessionId: string;
  metadataId: string;
  campaignId: string;
  creativeId: string;
  profileHash: string;
  live: LiveContext | null;
  durationMs: number | null;
  started: boolean;
  quartilesReached: number;
  completed: boolean;
  skipped: boolean;
  clicks: number;
  errors: number;
  watchedMs: number;
  viewability: AdSession['viewability'];
  eventCount: number;
  firstEventAt: number;
  lastEventAt: number;
  /** Highest source offset folded in: anything at or below it is a replay. */
  maxOffset: number;
  /** 0 while open; the version of the last session emitted. */
  version: number;
  closed: boolean;
  closeReason: AdSession['closeReason'];
  closedAt: number;
  /** Offset of the event that closed it, so a replay of that event re-emits the session. */
  closedByOffset: number;
}

/** Events that end an ad session at once. */
export const TERMINAL: ReadonlySet<EventType> = new Set(['complete', 'skip', 'closeLinear', 'error', 'notUsed']);

const QUARTILE: Partial<Record<EventType, number>> = { firstQuartile: 1, midpoint: 2, thirdQuartile: 3, complete: 4 };

/** Folds one event (at event time `at`) into the state. */
export function fold(state: SessionState, type: EventType, at: number, playheadMs: number | null): void {
  state.eventCount++;
  state.firstEventAt = Math.min(state.firstEventAt, at);
  state.lastEventAt = Math.max(state.lastEventAt, at);
  if (playheadMs !== null) state.watchedMs = Math.max(state.watchedMs, playheadMs);
  const quartile = QUARTILE[type];
  if (quartile !== undefined) state.quartilesReached = Math.max(state.quartilesReached, quartile);
  switch (type) {
    case 'start':
      state.started = true;
      break;
    case 'complete':
      state.completed = true;
      if (state.durationMs !== null) state.watchedMs = Math.max(state.watchedMs, state.durationMs);
      break;
    case 'skip':
      state.skipped = true;
      break;
    case 'click':
      state.clicks++;
      break;
    case 'error':
      state.errors++;
      break;
    case 'viewableImpression':
      state.viewability = 'viewable';
      break;
    case 'notViewable':
      if (state.viewability !== 'viewable') state.viewability = 'notViewable';
      break;
    case 'viewUndetermined':
      if (state.viewability === 'unknown') state.viewability = 'undetermined';
      break;
    default:
      break;
  }
}

/** The AdSession record for a state. */
export function toSession(state: SessionState): AdSession {
  return {
    adInstanceId: state.adInstanceId,
    version: state.version,
    playbackSessionId: state.playbackSessionId,
    metadataId: state.metadataId,
    campaignId: state.campaignId,
    creativeId: state.creativeId,
    profileHash: state.profileHash,
    live: state.live,
    started: state.started,
    quartilesReached: state.quartilesReached,
    completed: state.completed,
    skipped: state.skipped,
    clicks: state.clicks,
    errors: state.errors,
    watchedMs: state.watchedMs,
    viewability: state.viewability,
    eventCount: state.eventCount,
    firstEventAt: state.firstEventAt,
    lastEventAt: state.lastEventAt,
    closedAt: state.closedAt,
    closeReason: state.closeReason,
  };
}
