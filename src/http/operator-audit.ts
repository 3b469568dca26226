/**
 * The audit trail of operator actions (pause a vendor, replay dead letters, drain the
 * pipeline…): each one is logged as an `audit` line with who did it and when, and the
 * last few are kept in memory so the Control Room can show them.
 */
import type { Logger } from '../telemetry/logger.ts';
import type { Operator } from './admin-auth.ts';

/** A detail value of an action: only names, codes and counts, never device data. */
export type AuditValue = string | number | boolean | null;

/** One operator action, as logged and shown. */
export interface OperatorAction {
  /** ISO 8601 time of the action. */
  readonly at: string;
  /** Who did it (the X-Quartile-Operator header, else "operator"). */
  readonly operator: string;
  /** Stable action name, e.g. `pixels-pause`, `dlq-replay`, `pipeline-drain`. */
  readonly action: string;
  readonly detail: Readonly<Record<string, AuditValue>>;
}

/** Keeps the last `capacity` actions and logs every one. */
export class OperatorAudit {
  readonly #logger: Logger;
  readonly #capacity: number;
  readonly #recent: OperatorAction[] = [];
  readonly #now: () => number;

  constructor(logger: Logger, options: { readonly capacity?: number; readonly now?: () => number } = {}) {
    this.#logger = logger;
    this.#capacity = options.capacity ?? 50;
    this.#now = options.now ?? Date.now;
  }

  /** Records an action: one audit log line, and the in-memory trail. */
  record(operator: Operator, action: string, detail: Readonly<Record<string, AuditValue>>, message: string): OperatorAction {
    const entry: OperatorAction = { at: new Date(this.#now()).toISOString(), operator: operator.name, action, detail };
    this.#logger.info({ audit: action, operator: entry.operator, at: entry.at, ...detail }, message);
    this.#recent.unshift(entry);
    if (this.#recent.length > this.#capacity) this.#recent.length = this.#capacity;
    return entry;
  }

  /** The last actions, newest first. */
  recent(): readonly OperatorAction[] {
    return [...this.#recent];
  }
}
