/** A versioned, idempotent change to the warehouse schema. */
export interface Migration {
  /** Strictly increasing; never reused. */
  readonly version: number;
  readonly name: string;
  /**
   * The statements, for database `db`. Each must be safe to run again
   * (`IF NOT EXISTS`), so a migration interrupted half-way can simply be re-run.
   */
  statements(db: string): string[];
}
