/**
 * Which bytes of wsflow.lock this project already wrote or checked, remembered in the state database (its meta
 * table) as their sha256 per lock format and layout. Bytes with that hash are a well-formed lock in canonical
 * layout, so a no-op `wsflow run` compares entries instead of serialising the whole lock to compare bytes, and
 * `wsflow status` reads the lock only once a stage is not fresh in this checkout (the only stages the lock can
 * say anything about). A lock edited by hand, merged, or checked out from git has other bytes and is read and
 * checked in full as before. Measured in bench/engine/README.md.
 */
import type { Result } from '../../contract/result.js';
import { sha256Hex } from '../keys/hashing.js';
import type { FileHasher } from '../keys/file-hasher.js';
import type { StateStore } from '../state/state-store.js';
import { LOCK_FORMAT, LOCK_LAYOUT, lockPathOf, readLock, type LockFile } from './lock-file.js';

const META_KEY = `verified_lock:${LOCK_FORMAT}:${LOCK_LAYOUT}`;

/** True when these are the bytes of a lock this project wrote or checked. */
export function isVerifiedLockText(store: StateStore, text: string): boolean {
  const verified = store.metaValue(META_KEY);
  return verified !== undefined && verified === sha256Hex(text);
}

/** Remembers `text` (the lock's bytes as written, or as found equal to what would be written) as verified. */
export function recordVerifiedLock(store: StateStore, text: string): void {
  const hash = sha256Hex(text);
  if (store.metaValue(META_KEY) !== hash) store.setMetaValue(META_KEY, hash);
}

/** The lock, read when first asked for; the errors a reader must print (a damaged lock) as values. */
export type LockReader = () => Result<LockFile | null, string>;

/**
 * For `status`: a lock whose bytes are verified (hashed through the file-hash memo, so one stat when unchanged) is
 * read only when asked for; any other lock is read and checked now, so a damaged one is reported even when every
 * stage is fresh.
 */
export function lockReaderFor(projectDir: string, ctx: { store: StateStore; hasher: FileHasher }): Result<LockReader, string> {
  if (fileIsVerified(projectDir, ctx)) {
    let read: ReturnType<LockReader> | undefined;
    return { ok: true, value: () => (read ??= readLock(projectDir)) };
  }
  const now = readLock(projectDir);
  return now.ok ? { ok: true, value: () => now } : now;
}

function fileIsVerified(projectDir: string, ctx: { store: StateStore; hasher: FileHasher }): boolean {
  const verified = ctx.store.metaValue(META_KEY);
  if (verified === undefined) return false;
  try {
    return ctx.hasher.hashFile(lockPathOf(projectDir)) === verified;
  } catch {
    // no lock, or one that cannot be read: readLock says which
    return false;
  }
}
