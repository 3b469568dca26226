/**
 * Where each beacon of a simulation counts: one cell per (viewer, break, ad, event,
 * vendor), in typed arrays. The ground truth marks the cells that should be hit and
 * the vendor servers count the hits, so a 100,000-viewer break is reconciled with a
 * few megabytes, not millions of map entries.
 */
import { SIM_EVENT_TYPES, SIM_VENDORS, type SimEventType } from './sim-vendors.ts';

/** The shape of a simulation, as far as beacons go. */
export interface GridShape {
  readonly viewers: number;
  readonly breaks: number;
  readonly podSize: number;
}

const TYPE_INDEX = new Map<string, number>(SIM_EVENT_TYPES.map((t, i) => [t, i]));

/** The index of an event type in the grid; undefined for types no vendor tracks. */
export function eventTypeIndex(type: string): number | undefined {
  return TYPE_INDEX.get(type);
}

/** One counter per beacon cell, per vendor. */
export class BeaconGrid {
  readonly shape: GridShape;
  readonly #cells: Map<string, Uint8Array>;

  /**
   * `shared`: counters in SharedArrayBuffers, so the vendor servers can count in a worker
   * thread while the simulator reads them (see {@link BeaconGrid.buffers}); or the
   * buffers of such a grid, to open it in the worker.
   */
  constructor(shape: GridShape, shared: boolean | ReadonlyMap<string, SharedArrayBuffer> = false) {
    this.shape = shape;
    const size = shape.viewers * shape.breaks * shape.podSize * SIM_EVENT_TYPES.length;
    this.#cells = new Map(
      SIM_VENDORS.map((v) => {
        if (typeof shared !== 'boolean') return [v.name, new Uint8Array(shared.get(v.name)!)];
        return [v.name, shared ? new Uint8Array(new SharedArrayBuffer(size)) : new Uint8Array(size)];
      }),
    );
  }

  /** The shared buffers of a grid made with `shared` (for a worker thread). */
  buffers(): Map<string, SharedArrayBuffer> {
    return new Map([...this.#cells].map(([name, cells]) => [name, cells.buffer as SharedArrayBuffer]));
  }

  /** The cell of one beacon; undefined when it lies outside the simulation. */
  cell(viewer: number, breakIndex: number, sequence: number, type: SimEventType | string): number | undefined {
    const t = TYPE_INDEX.get(type);
    const { viewers, breaks, podSize } = this.shape;
    if (t === undefined || viewer < 0 || viewer >= viewers || breakIndex < 0 || breakIndex >= breaks || sequence < 1 || sequence > podSize) return undefined;
    return ((viewer * breaks + breakIndex) * podSize + (sequence - 1)) * SIM_EVENT_TYPES.length + t;
  }

  /** What a cell index stands for. */
  describe(cell: number): { viewer: number; breakIndex: number; sequence: number; type: SimEventType } {
    const { breaks, podSize } = this.shape;
    const t = cell % SIM_EVENT_TYPES.length;
    let rest = Math.floor(cell / SIM_EVENT_TYPES.length);
    const seq = (rest % podSize) + 1;
    rest = Math.floor(rest / podSize);
    return { viewer: Math.floor(rest / breaks), breakIndex: rest % breaks, sequence: seq, type: SIM_EVENT_TYPES[t]! };
  }

  add(vendor: string, cell: number): void {
    const cells = this.#cells.get(vendor);
    if (cells !== undefined && cells[cell]! < 255) cells[cell]!++;
  }

  get(vendor: string, cell: number): number {
    return this.#cells.get(vendor)?.[cell] ?? 0;
  }

  /** The counters of one vendor (read only by convention). */
  cells(vendor: string): Uint8Array {
    const cells = this.#cells.get(vendor);
    if (cells === undefined) throw new Error(`no simulated vendor "${vendor}"`);
    return cells;
  }
}
