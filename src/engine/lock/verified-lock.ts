/**
 * Which bytes of wsflow.lock this project already wrote or checked, remembered in the state database (its meta
 * table) as their sha256 per lock format and layout. Bytes with that hash are a well-formed lock in canonical
 * layout, so a no-op `wsflow run` compares entries instead of serialising the whole lock to compare bytes, and
 * `wsflow status` reads the lock only once a stage is not fresh in this checkout (the only stages the lock can
 * say anything about). A lock edited by hand, merged, or checked out from git has other bytes and is read and
 * checked in full as before. Per profile it also remembers the hash of the inputs the entries were last computed
 * from (update-lock.ts): a run with the same inputs, the lock still the bytes recorded with them, leaves the lock
 * unread. Measured in bench/engine/README.md.
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

/**
 * Remembers `text` (the lock's bytes as written, or as found equal to what would be written) as verified, and for
 * `profile` the hash of the inputs its entries were computed from (update-lock.ts), so that a later run with the
 * same inputs and the lock still these bytes need not read it.
 */
export function recordVerifiedLock(store: StateStore, text: string, profile: string | null, inputs: string): void {
  const hash = sha256Hex(text);
  if (store.metaValue(META_KEY) !== hash) store.setMetaValue(META_KEY, hash);
  const update = `${hash} ${inputs}`;
  if (store.metaValue(updateKey(profile)) !== update) store.setMetaValue(updateKey(profile), update);
}

/** True when the lock still has the bytes recorded with these very inputs for this profile. */
export function lockUnchangedSince(ctx: { store: StateStore; hasher: FileHasher }, projectDir: string, profile: string | null, inputs: string): boolean {
  const recorded = ctx.store.metaValue(updateKey(profile));
  if (recorded === undefined || !recorded.endsWith(` ${inputs}`)) return false;
  const hash = lockFileHash(projectDir, ctx.hasher);
  return hash !== null && `${hash} ${inputs}` === recorded;
}

const updateKey = (profile: string | null): string => `lock_update:${profile ?? ''}`;

/**
 * sha256 of wsflow.lock through the file-hash memo (one stat while it is unchanged; a run leaves the memo row that
 * status then uses); null when there is no lock or it cannot be read, which readLock reports.
 */
function lockFileHash(projectDir: string, hasher: FileHasher): string | null {
  try {
    return hasher.hashFile(lockPathOf(projectDir));
  } catch {
    return null;
  }
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
  return verified !== undefined && lockFileHash(projectDir, ctx.hasher) === verified;
}
