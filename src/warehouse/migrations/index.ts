/** Every migration, in version order. Add new ones at the end; never edit applied ones. */
import { coreTables } from './0001-core-tables.ts';
import type { Migration } from './migration.ts';

export type { Migration } from './migration.ts';

export const MIGRATIONS: readonly Migration[] = [coreTables];
