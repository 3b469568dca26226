/** Every `quartile` sub-command, in the order `--help` lists them. */
import type { Command } from './command.ts';
import { configCommand } from './config.ts';
import { migrateCommand } from './migrate.ts';
import { startCommand } from './start.ts';
import { topicsCommand } from './topics.ts';
import { vastCommand } from './vast.ts';
import { keysCommand } from './keys.ts';
import { tokenCommand } from './token.ts';
import { dlqCommand } from './dlq.ts';
import { reportCommand } from './report.ts';
import { simulateCommand } from './simulate.ts';
import { reconcileCommand } from './reconcile.ts';
import { warehouseCommand } from './warehouse.ts';

export const COMMANDS: readonly Command[] = [
  startCommand,
  configCommand,
  topicsCommand,
  migrateCommand,
  vastCommand,
  keysCommand,
  tokenCommand,
  dlqCommand,
  reportCommand,
  simulateCommand,
  reconcileCommand,
  warehouseCommand,
];
