/**
 * Faults of the machine rather than of the pipeline — a full disk, a read-only or unwritable directory, a damaged
 * state database — as one line that says what happened, where, and what to do: never `internal error` and a stack.
 * The CLI prints the line and exits FAULT_EXIT_CODE; inside a run, the stage it hit fails with it.
 *
 * Kept free of imports beyond node:path: the CLI's error path loads it.
 */
import { relative } from 'node:path';

/** exit status of a command stopped by a fault of its environment (2 stays "bad input") */
export const FAULT_EXIT_CODE = 3;

/** An error whose message is already the one line to print. */
export class FaultError extends Error {}

/** The state database this process opened last (a process works on one project), for messages about it. */
let stateDbPath: string | undefined;

export function noteStateDbPath(path: string): void {
  stateDbPath = path;
}

/** A path as the user would type it from the current directory. */
export function displayPath(path: string): string {
  const rel = relative(process.cwd(), path);
  return rel !== '' && !rel.startsWith('..') ? rel : path;
}

function stateDbName(): string {
  return stateDbPath === undefined ? 'cache/state.db' : displayPath(stateDbPath);
}

/** How to start over from a damaged state database. */
function resetAdvice(): string {
  const db = stateDbName();
  return (
    `it only records runs, executions and hashes (the results in cache/objects are not in it): move it aside with ` +
    `\`mv ${db} ${db}.damaged && rm -f ${db}-wal ${db}-shm\` and wsflow starts a new one (stages run once more to be recorded again)`
  );
}

function errnoLine(code: string, path: string | undefined, syscall: string | undefined): string | undefined {
  const where = path === undefined ? '' : ` ${displayPath(path)}`;
  switch (code) {
    case 'ENOSPC':
    case 'EDQUOT':
      return `no space left on the device${path === undefined ? '' : ` writing${where}`}${code === 'EDQUOT' ? ' (disk quota exceeded)' : ''}; free some space (wsflow gc removes unused cache objects) and run again: nothing half-written was recorded`;
    case 'EROFS':
      return `read-only file system:${where || ' cannot write'}${syscall ? ` (${syscall})` : ''}; wsflow needs to write cache/ and the outs (status and explain only read)`;
    case 'EACCES':
    case 'EPERM':
      return `permission denied:${where || ' cannot write'}${syscall ? ` (${syscall})` : ''}; check the owner and mode of that path`;
    case 'EIO':
      return `input/output error on${where || ' the disk'}; the device may be failing`;
    default:
      return undefined;
  }
}

function sqliteLine(code: string, message: string): string | undefined {
  const db = stateDbName();
  if (code === 'SQLITE_CORRUPT' || code.startsWith('SQLITE_CORRUPT_') || code === 'SQLITE_NOTADB') {
    return `the state database ${db} is damaged (${message}); ${resetAdvice()}`;
  }
  if (code === 'SQLITE_READONLY' || code.startsWith('SQLITE_READONLY_')) {
    return `the state database ${db} is read-only (${message}); wsflow run needs to write it (check the mode of ${db} and its directory)`;
  }
  if (code === 'SQLITE_FULL') return `no space left on the device writing the state database ${db}; free some space and run again: nothing unfinished was recorded as done`;
  if (code === 'SQLITE_CANTOPEN') return `cannot open the state database ${db} (${message}): its directory is missing, unreadable or read-only`;
  if (code === 'SQLITE_BUSY' || code.startsWith('SQLITE_BUSY_')) return `the state database ${db} stayed locked by another process for 30 s; try again`;
  if (code === 'SQLITE_IOERR' || code.startsWith('SQLITE_IOERR_')) {
    if (/disk is full|no space/i.test(message)) return `no space left on the device writing the state database ${db}; free some space and run again`;
    return `input/output error on the state database ${db} (${message})`;
  }
  return undefined;
}

/** The one line for a known fault; undefined for anything else (a bug, which keeps its stack). */
export function describeFault(err: unknown): string | undefined {
  if (err instanceof FaultError) return err.message;
  if (!(err instanceof Error)) return undefined;
  const e = err as NodeJS.ErrnoException;
  if (typeof e.code === 'string') {
    if (e.code.startsWith('SQLITE_')) return sqliteLine(e.code, firstLine(e.message));
    // a failed copy names its source in `path` and what it was writing in `dest`
    const dest = (e as { dest?: unknown }).dest;
    return errnoLine(e.code, typeof dest === 'string' ? dest : e.path, e.syscall);
  }
  return undefined;
}

function firstLine(s: string): string {
  const i = s.indexOf('\n');
  return i < 0 ? s : s.slice(0, i);
}
