/**
 * `wsflow.lock`, next to pipeline.yaml and meant to be committed (DVC's dvc.lock): for each stage that last ran
 * successfully, what went into its key and the hash of what it produced. Pretty-printed JSON with sorted keys, one
 * entry per stage: a diff in review shows exactly which stages' params, inputs or outputs changed. It holds no
 * times, hosts, run ids or absolute paths, so two machines that computed the same results write the same bytes.
 * JSON, not YAML: `wsflow status` reads it, and status does not load a YAML parser.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { MatrixValue } from '../../pipeline/types.js';
import type { Result } from '../../contract/result.js';
import type { DepIngredient, SourceIngredient } from '../keys/key-ingredients.js';
import type { StageKey, TreeHash } from '../keys/hashing.js';

export const LOCK_FILE_NAME = 'wsflow.lock';
export const LOCK_FORMAT = 'wsflow-lock-1';

export interface LockedUpstream {
  stage: string;
  output: TreeHash;
}

export interface LockedExternal {
  label: string;
  hash: string;
  size: number;
  /** only when the file is inside the project (project-relative): an absolute path names one machine */
  path?: string;
}

/** One stage's line of the record. Display-only parts of its key ingredients are kept so status can name changes. */
export interface LockEntry {
  key: StageKey;
  source: SourceIngredient;
  matrix: Readonly<Record<string, MatrixValue>>;
  params: Readonly<Record<string, unknown>>;
  paramSources: Readonly<Record<string, string>>;
  globalParams?: Readonly<Record<string, unknown>>;
  upstream: Readonly<Record<string, readonly LockedUpstream[]>>;
  external: readonly LockedExternal[];
  deps: readonly DepIngredient[];
  output: { hash: TreeHash; files: number; bytes: number };
}

export type LockStages = Readonly<Record<string, LockEntry>>;

export interface LockFile {
  format: typeof LOCK_FORMAT;
  /** the stages as pipeline.yaml declares them without a profile */
  stages: LockStages;
  /** the same, per profile (`--profile smoke`): the stage ids are the same, their keys are not */
  profiles: Readonly<Record<string, { stages: LockStages }>>;
}

export function lockPathOf(projectDir: string): string {
  return join(projectDir, LOCK_FILE_NAME);
}

export function emptyLock(): LockFile {
  return { format: LOCK_FORMAT, stages: {}, profiles: {} };
}

export function stagesOfProfile(lock: LockFile, profile: string | null): LockStages {
  return profile === null ? lock.stages : (lock.profiles[profile]?.stages ?? {});
}

export function withProfileStages(lock: LockFile, profile: string | null, stages: LockStages): LockFile {
  if (profile === null) return { ...lock, stages };
  return { ...lock, profiles: { ...lock.profiles, [profile]: { stages } } };
}

/**
 * The version of serializeLock's layout. Bump it whenever the same lock would serialise to other bytes: the state
 * database remembers which lock bytes it verified per format and layout (verified-lock.ts), and a lock verified under
 * an older layout must be checked, and rewritten, again.
 */
export const LOCK_LAYOUT = 1;

/** The lock's bytes: keys sorted at every level, two-space indent, a final newline. */
export function serializeLock(lock: LockFile): string {
  return `${JSON.stringify(sortKeys(lock), null, 2)}\n`;
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(value).sort()) {
    const v = (value as Record<string, unknown>)[k];
    if (v !== undefined) out[k] = sortKeys(v);
  }
  return out;
}

/** The project's lock file; null when there is none; an error line when it is not one wsflow can read. */
export function readLock(projectDir: string): Result<LockFile | null, string> {
  const r = readLockText(projectDir);
  return r.ok ? { ok: true, value: r.value?.lock ?? null } : r;
}

export interface LockText {
  lock: LockFile;
  /** the file's bytes as read (utf-8) */
  text: string;
  /** `known` said these bytes are a lock already checked: its shape was not checked again */
  trusted: boolean;
}

/**
 * The lock with the bytes it was parsed from. `known(text)`: true when the caller knows these very bytes to be a
 * well-formed lock (the state database's record of what it wrote or checked, verified-lock.ts); their shape is then
 * not checked a second time.
 */
export function readLockText(projectDir: string, known?: (text: string) => boolean): Result<LockText | null, string> {
  const path = lockPathOf(projectDir);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { ok: true, value: null };
    return { ok: false, error: `${path}: cannot read: ${(e as Error).message}` };
  }
  const trusted = known?.(text) === true;
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    return { ok: false, error: `${path}: not valid JSON (${(e as Error).message}); restore it from git or delete it` };
  }
  if (trusted) {
    // what checkShape would have filled in; a lock wsflow wrote always has it
    const lock = raw as { profiles?: unknown };
    lock.profiles ??= {};
    return { ok: true, value: { lock: raw as LockFile, text, trusted } };
  }
  const shape = checkShape(raw);
  return shape === null ? { ok: true, value: { lock: raw as LockFile, text, trusted } } : { ok: false, error: `${path}: ${shape}; restore it from git or delete it` };
}

const HEX64 = /^[0-9a-f]{64}$/;

/** Only what the engine relies on; a hand-edited entry whose key no longer matches its ingredients is simply stale. */
function checkShape(raw: unknown): string | null {
  if (!isRecord(raw) || raw['format'] !== LOCK_FORMAT) return `not a ${LOCK_FORMAT} file`;
  const sections: [string, unknown][] = [['stages', raw['stages']]];
  if (raw['profiles'] !== undefined) {
    if (!isRecord(raw['profiles'])) return 'profiles is not an object';
    for (const [name, p] of Object.entries(raw['profiles'])) sections.push([`profiles.${name}.stages`, isRecord(p) ? p['stages'] : undefined]);
  } else {
    raw['profiles'] = {};
  }
  for (const [where, stages] of sections) {
    if (!isRecord(stages)) return `${where} is not an object`;
    for (const [id, e] of Object.entries(stages)) {
      const bad = checkEntry(e);
      if (bad) return `${where}.${id}: ${bad}`;
    }
  }
  return null;
}

function checkEntry(e: unknown): string | null {
  if (!isRecord(e)) return 'not an object';
  if (typeof e['key'] !== 'string' || !HEX64.test(e['key'])) return 'key is not a sha256';
  const out = e['output'];
  if (!isRecord(out) || typeof out['hash'] !== 'string' || !HEX64.test(out['hash'])) return 'output.hash is not a sha256';
  if (!isRecord(e['source']) || !isRecord(e['params']) || !isRecord(e['upstream']) || !isRecord(e['matrix'])) return 'source, params, matrix or upstream missing';
  if (!Array.isArray(e['external']) || !Array.isArray(e['deps'])) return 'external or deps missing';
  for (const list of Object.values(e['upstream'])) {
    if (!Array.isArray(list)) return 'upstream is malformed';
    for (const u of list) if (!isRecord(u) || typeof u['stage'] !== 'string' || typeof u['output'] !== 'string' || !HEX64.test(u['output'])) return 'upstream is malformed';
  }
  return null;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/**
 * Writes the lock unless it already holds these bytes: a temporary file in the project directory, then rename, so
 * a crash leaves the old lock or the new one, never half of one. Returns the bytes the file holds now.
 */
export function writeLockIfChanged(projectDir: string, lock: LockFile): { written: boolean; text: string } {
  const path = lockPathOf(projectDir);
  const text = serializeLock(lock);
  try {
    if (readFileSync(path, 'utf8') === text) return { written: false, text };
  } catch {
    // no lock yet (or unreadable: replaced below)
  }
  mkdirSync(dirname(path), { recursive: true });
  const tmp = join(dirname(path), `.${LOCK_FILE_NAME}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
  try {
    writeFileSync(tmp, text);
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
  return { written: true, text };
}
