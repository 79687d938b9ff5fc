import { mkdirSync, openSync, readFileSync, closeSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';

/**
 * One `sealpost` process per state directory: the file store keeps the whole state in memory and
 * writes it back at each commit, so two processes on one directory would undo each other's
 * session updates. The lock is a `lock` file holding the pid, taken with O_EXCL; a lock whose
 * process is gone is taken over.
 */
export class StateLock {
  private constructor(private readonly path: string) {}

  static acquire(directory: string): StateLock {
    mkdirSync(directory, { recursive: true, mode: 0o700 });
    const path = join(directory, 'lock');
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        const fd = openSync(path, 'wx', 0o600);
        writeSync(fd, String(process.pid));
        closeSync(fd);
        return new StateLock(path);
      } catch (error) {
        if ((error as { code?: string }).code !== 'EEXIST') throw error;
        const holder = Number(readFileSync(path, 'utf8').trim());
        if (Number.isInteger(holder) && holder > 0 && isAlive(holder)) {
          throw new StateLockedError(`another sealpost process (pid ${holder}) is using ${directory}; stop it first`);
        }
        unlinkSync(path);
      }
    }
    throw new StateLockedError(`could not take the lock of ${directory}`);
  }

  release(): void {
    try {
      unlinkSync(this.path);
    } catch {
      // already gone: nothing to release
    }
  }
}

export class StateLockedError extends Error {
  readonly code = 'state_locked';
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as { code?: string }).code === 'EPERM';
  }
}
