/**
 * One process owns a chDB data directory. chDB's own lock failure only prints to
 * stderr and surfaces as a generic "failed to create connection", so Quartile takes a
 * pid lock file first and can tell the user exactly which directory is taken and by
 * whom. A lock left by a process that died is taken over.
 */
import { closeSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { QuartileError } from '../core/errors.ts';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Takes `<dir>/quartile.lock`; returns a function that releases it. */
export function lockDataDir(dir: string): () => void {
  const lockFile = `${dir}/quartile.lock`;
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(lockFile, 'wx');
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return () => rmSync(lockFile, { force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const owner = Number(readFileSync(lockFile, 'utf8').trim());
      if (Number.isInteger(owner) && owner > 0 && alive(owner)) {
        throw new QuartileError(
          'WAREHOUSE_DATA_DIR_LOCKED',
          `The embedded ClickHouse data directory ${dir} is in use by another Quartile process (pid ${owner}). Stop that process, or give this one its own QUARTILE_DATA_DIR.`,
        );
      }
      rmSync(lockFile, { force: true }); // stale: its owner is gone
    }
  }
  throw new QuartileError('WAREHOUSE_DATA_DIR_LOCKED', `Could not take the lock on ${dir}; remove ${lockFile} if no Quartile process runs.`);
}
