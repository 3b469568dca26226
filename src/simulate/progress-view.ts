/**
 * Live progress of a simulation for the terminal: one bar per phase (herd decisions,
 * device events, drain) with rates and consumer lag. On a TTY it redraws in place;
 * otherwise it prints a plain line every few seconds, for CI logs.
 */
import { renderBar } from '../cli-ui/progress.ts';
import type { SimulationProgress } from './live-event.ts';

export interface ProgressFigures {
  readonly progress?: Readonly<SimulationProgress>;
  readonly lag?: number | undefined;
  readonly billed?: number;
  readonly billable?: number;
  readonly beacons?: number;
  readonly beaconsExpected?: number;
}

export class ProgressView {
  readonly #out: NodeJS.WritableStream & { isTTY?: boolean };
  readonly #tty: boolean;
  #drawn = 0;
  #lastPlain = 0;
  #prev = { at: Date.now(), decisions: 0, events: 0 };
  #rates = { decisions: 0, events: 0 };

  constructor(out: NodeJS.WritableStream & { isTTY?: boolean }) {
    this.#out = out;
    this.#tty = out.isTTY === true;
  }

  update(f: ProgressFigures): void {
    const p = f.progress;
    const now = Date.now();
    if (p !== undefined && now - this.#prev.at >= 1000) {
      const secs = (now - this.#prev.at) / 1000;
      this.#rates = { decisions: (p.decisions - this.#prev.decisions) / secs, events: (p.eventsAccepted - this.#prev.events) / secs };
      this.#prev = { at: now, decisions: p.decisions, events: p.eventsAccepted };
    }
    const lines: string[] = [];
    if (p !== undefined) {
      lines.push(`break ${p.breakIndex + 1}  phase ${p.phase.padEnd(8)}  ${Math.round(this.#rates.decisions)} decisions/s  ${Math.round(this.#rates.events)} events/s  lag ${f.lag ?? '-'}`);
      lines.push(`  herd     ${renderBar(p.decisions, p.decisionsExpected)}  ${p.decisions}/${p.decisionsExpected}`);
      lines.push(`  devices  ${renderBar(p.eventsAccepted, Math.max(p.eventsAccepted, p.eventsScheduled))}  ${p.eventsAccepted} events accepted`);
    }
    if (f.billable !== undefined) {
      lines.push(`  billing  ${renderBar(f.billed ?? 0, f.billable)}  ${f.billed ?? 0}/${f.billable} impressions   beacons ${f.beacons ?? 0}/${f.beaconsExpected ?? 0}   lag ${f.lag ?? '-'}`);
    }
    if (this.#tty) {
      if (this.#drawn > 0) this.#out.write(`\x1b[${this.#drawn}A`);
      for (const line of lines) this.#out.write(`\x1b[2K${line}\n`);
      this.#drawn = lines.length;
    } else if (now - this.#lastPlain >= 5000) {
      this.#lastPlain = now;
      this.#out.write(`${lines.map((l) => l.trim()).join(' | ')}\n`);
    }
  }

  /** Leaves the last frame on screen and starts fresh below it. */
  done(): void {
    this.#drawn = 0;
  }
}
