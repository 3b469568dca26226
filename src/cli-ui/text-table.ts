/** Aligned plain-text tables for command output: columns padded to their widest cell. */

/** One column: its heading, and whether numbers line up on the right. */
export interface TextColumn {
  readonly heading: string;
  readonly align: 'left' | 'right';
}

/** The table as lines (heading first), two spaces between columns, no trailing blanks. */
export function textTable(columns: readonly TextColumn[], rows: readonly (readonly string[])[]): string[] {
  const widths = columns.map((c, i) => Math.max(c.heading.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string =>
    columns
      .map((c, i) => (c.align === 'right' ? (cells[i] ?? '').padStart(widths[i]!) : (cells[i] ?? '').padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(columns.map((c) => c.heading)), ...rows.map(line)];
}
