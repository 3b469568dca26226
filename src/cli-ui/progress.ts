/**
 * Progress for long CLI work (migrate, dlq replay, simulate, reconcile): a bar redrawn
 * in place when the stream is a terminal, plain lines otherwise (CI logs, pipes), so
 * a log never fills with carriage returns and a person never stares at a silent
 * prompt. No dependency: a bar is one line of text.
 *
 *   const progress = createProgress({ label: 'migrate', total: 12, stream: io.stderr });
 *   progress.update(3, 'applying 1 core-tables');
 *   progress.done('12 statements applied');
 */

/** What a progress display needs. */
export interface ProgressOptions {
  /** A short name for the work, first on every line, e.g. `migrate`. */
  readonly label: string;
  /** How many units the work has, when known; without it the count is shown alone. */
  readonly total?: number;
  /** Where progress goes: stderr, so stdout stays for results. */
  readonly stream: NodeJS.WritableStream;
  /** Force terminal or plain output; default: whether the stream is a TTY. */
  readonly tty?: boolean;
  /** Plain output prints at most one line per this many ms (a new note always prints). */
  readonly plainEveryMs?: number;
  /** Width of the bar in characters. */
  readonly barWidth?: number;
  readonly now?: () => number;
}

/** A running progress display. */
export interface Progress {
  /** Sets how many units are done, with an optional note (the current step). */
  update(done: number, note?: string): void;
  /** Adds `n` units done. */
  tick(n?: number, note?: string): void;
  /** Ends the display with a last line. */
  done(summary?: string): void;
}

/** Redraws on a terminal at most this often: faster is flicker, not information. */
const TTY_REDRAW_MS = 80;

/** `[#######.............]  35%` for `done` of `total`. */
export function renderBar(done: number, total: number, width = 24): string {
  const ratio = total <= 0 ? 1 : Math.min(1, Math.max(0, done / total));
  const filled = Math.round(ratio * width);
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${String(Math.floor(ratio * 100)).padStart(3)}%`;
}

/** One line of progress, without terminal control characters. */
export function progressLine(label: string, done: number, total: number | undefined, note: string | undefined, barWidth?: number): string {
  const count = total === undefined ? `${done}` : `${renderBar(done, total, barWidth)} ${done}/${total}`;
  return `${label} ${count}${note === undefined || note === '' ? '' : ` ${note}`}`;
}

export function createProgress(options: ProgressOptions): Progress {
  const { label, total, stream } = options;
  const tty = options.tty ?? (stream as NodeJS.WriteStream).isTTY === true;
  const now = options.now ?? Date.now;
  const plainEveryMs = options.plainEveryMs ?? 1_000;
  let count = 0;
  let note: string | undefined;
  let lastDrawn = Number.NEGATIVE_INFINITY;
  let lastNote: string | undefined;
  let lastPrinted = '';
  let ended = false;

  const line = (): string => progressLine(label, count, total, note, options.barWidth);
  const draw = (): void => {
    const at = now();
    if (tty) {
      if (at - lastDrawn < TTY_REDRAW_MS) return;
      // Carriage return and erase-line: the bar stays on one line.
      stream.write(`\r\x1b[2K${line()}`);
    } else {
      if (note === lastNote && at - lastDrawn < plainEveryMs) return;
      lastPrinted = line();
      stream.write(`${lastPrinted}\n`);
    }
    lastDrawn = at;
    lastNote = note;
  };

  return {
    update(done, stepNote) {
      if (ended) return;
      count = done;
      if (stepNote !== undefined) note = stepNote;
      draw();
    },
    tick(n = 1, stepNote) {
      this.update(count + n, stepNote);
    },
    done(summary) {
      if (ended) return;
      ended = true;
      note = summary ?? note;
      if (tty) stream.write(`\r\x1b[2K${line()}\n`);
      else if (line() !== lastPrinted) stream.write(`${line()}\n`);
    },
  };
}
