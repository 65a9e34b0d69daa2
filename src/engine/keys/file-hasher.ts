/**
 * Content hashes of files and directories, memoised in the state database by (path, size, mtime, inode) so that
 * `wsflow status` does not rehash gigabytes of model weights that did not change.
 *
 * A memo entry is only trusted when the file's mtime is older than the moment it was hashed by more than the
 * racy window: a file rewritten within the same timestamp tick as our hash (same size) would otherwise keep a
 * stale hash (git's "racy clean" problem).
 */
import { closeSync, openSync, readSync, statSync, type BigIntStats } from 'node:fs';
import { createHash } from 'node:crypto';
import type BetterSqlite3 from 'better-sqlite3';
import type { FileHash, TreeHash } from './hashing.js';
import { treeHashOf, walkFiles, type TreeEntry, type TreeManifest } from './tree-manifest.js';

const RACY_WINDOW_NS = 2_000_000_000n;
const CHUNK = 8 * 1024 * 1024;

interface MemoRow {
  size: bigint;
  mtime_ns: bigint;
  ino: bigint;
  hash: string;
  hashed_at_ns: bigint;
}

export interface HashedPath {
  kind: 'file' | 'dir';
  hash: TreeHash | FileHash;
  size: number;
  files: number;
}

export class FileHasher {
  readonly #getAll: BetterSqlite3.Statement<unknown[]>;
  readonly #put: BetterSqlite3.Statement<unknown[]>;
  #all: Map<string, MemoRow> | null = null;
  /** per-process cache: a run hashes the same dep for several stages */
  readonly #seen = new Map<string, { size: bigint; mtimeNs: bigint; ino: bigint; hash: FileHash }>();
  /** files hashed for real (not from the memo) since construction; lets tests and benchmarks assert memo hits */
  rehashed = 0;
  /** false once the database refused a write (a read-only project): the memo is an optimisation, not a need */
  #canRemember = true;
  /** see primeStats */
  #primed: Map<string, BigIntStats> | null = null;

  constructor(db: BetterSqlite3.Database) {
    this.#getAll = db.prepare<unknown[]>('SELECT path, size, mtime_ns, ino, hash, hashed_at_ns FROM file_hashes').safeIntegers(true);
    this.#put = db.prepare<unknown[]>(
      `INSERT INTO file_hashes (path, size, mtime_ns, ino, hash, hashed_at_ns) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT(path) DO UPDATE SET size = excluded.size, mtime_ns = excluded.mtime_ns, ino = excluded.ino,
         hash = excluded.hash, hashed_at_ns = excluded.hashed_at_ns`,
    );
  }

  /**
   * The whole memo, read in one query on first use: a status over thousands of files then costs one stat per file
   * and no query. Rows written meanwhile by other processes are missed, which only costs a rehash.
   */
  #memo(absPath: string): MemoRow | undefined {
    if (!this.#all) {
      this.#all = new Map();
      for (const row of this.#getAll.all() as (MemoRow & { path: string })[]) this.#all.set(row.path, row);
    }
    return this.#all.get(absPath);
  }

  /** sha256 of a regular file, from the memo when its stat signature is unchanged. */
  hashFile(absPath: string, st: BigIntStats = statSync(absPath, { bigint: true })): FileHash {
    const known = this.#known(absPath, st);
    if (known !== undefined) return known;
    // the moment hashing started: a write after it has a newer mtime and so misses the memo next time
    const hashedAt = BigInt(Date.now()) * 1_000_000n;
    const hash = hashFileSync(absPath);
    this.rehashed++;
    this.#remember(absPath, Number(st.size), st.mtimeNs, st.ino, hash, hashedAt);
    this.#all?.set(absPath, { size: st.size, mtime_ns: st.mtimeNs, ino: st.ino, hash, hashed_at_ns: hashedAt });
    this.#seen.set(absPath, { size: st.size, mtimeNs: st.mtimeNs, ino: st.ino, hash });
    return hash;
  }

  /** The memo's hash for exactly this stat signature, outside the racy window; undefined when the file must be read. */
  #known(absPath: string, st: BigIntStats): FileHash | undefined {
    // the stat signature compared as bigints: no strings built for each of a status's thousand files
    const seen = this.#seen.get(absPath);
    if (seen && seen.size === st.size && seen.mtimeNs === st.mtimeNs && seen.ino === st.ino) return seen.hash;
    const row = this.#memo(absPath);
    if (
      row &&
      row.size === st.size &&
      row.mtime_ns === st.mtimeNs &&
      row.ino === st.ino &&
      row.hashed_at_ns - row.mtime_ns > RACY_WINDOW_NS
    ) {
      this.#seen.set(absPath, { size: st.size, mtimeNs: st.mtimeNs, ino: st.ino, hash: row.hash as FileHash });
      return row.hash as FileHash;
    }
    return undefined;
  }

  /**
   * Stats the pipeline's load took of plain-file outs moments ago (Pipeline.outStats), for an assessment that
   * follows at once: status, and a run's check for a no-op. The map is taken, not copied: each stat is used at most
   * once and removed from it, and forgetPrimedStats empties it. A stat is used only where the memo knows
   * the file by exactly that signature; a file to be read is stat'ed afresh. Not for a run's scheduler, whose checks
   * come after other stages executed (forgetPrimedStats).
   */
  primeStats(stats: Map<string, BigIntStats> | undefined): void {
    this.#primed = stats ?? null;
  }

  /** Drops (and empties) the primed stats: they describe the moment of the load, which is over. */
  forgetPrimedStats(): void {
    this.#primed?.clear();
    this.#primed = null;
  }

  /** A plain file's stat for hashing: a primed one where it applies (primeStats), else statSync's (which throws). */
  statForHash(absPath: string): BigIntStats {
    const primed = this.#primed?.get(absPath);
    if (primed) {
      this.#primed?.delete(absPath);
      if (this.#known(absPath, primed) !== undefined) return primed;
    }
    return statSync(absPath, { bigint: true });
  }

  #remember(...row: [string, number, bigint, bigint, FileHash, bigint]): void {
    if (!this.#canRemember) return;
    try {
      this.#put.run(...row);
    } catch (err) {
      const code = (err as { code?: unknown }).code;
      if (typeof code !== 'string' || !code.startsWith('SQLITE_READONLY')) throw err;
      this.#canRemember = false;
    }
  }

  /** Hash a path that may be a file or a directory (a directory hashes as the manifest of its files). */
  hashPath(absPath: string): HashedPath {
    const st = statSync(absPath, { bigint: true });
    if (st.isDirectory()) {
      const { manifest, hash } = this.hashDir(absPath, { followSymlinks: true });
      let size = 0;
      for (const f of manifest.files) size += f.size;
      return { kind: 'dir', hash, size, files: manifest.files.length };
    }
    return { kind: 'file', hash: this.hashFile(absPath, st), size: Number(st.size), files: 1 };
  }

  /** Manifest and tree hash of a directory's files. */
  hashDir(absDir: string, options: { followSymlinks: boolean }): { manifest: TreeManifest; hash: TreeHash } {
    const files: TreeEntry[] = walkFiles(absDir, options).map((f) => {
      const st = statSync(f.abs, { bigint: true });
      return { path: f.rel, hash: this.hashFile(f.abs, st), size: Number(st.size), exec: (Number(st.mode) & 0o111) !== 0 };
    });
    const manifest = { files };
    return { manifest, hash: treeHashOf(manifest) };
  }
}

/** sha256 of a file, read synchronously in large chunks (no memo). */
export function hashFileSync(absPath: string): FileHash {
  const h = createHash('sha256');
  const fd = openSync(absPath, 'r');
  try {
    const buf = Buffer.allocUnsafe(CHUNK);
    for (;;) {
      const n = readSync(fd, buf, 0, CHUNK, null);
      if (n === 0) break;
      h.update(n === CHUNK ? buf : buf.subarray(0, n));
    }
  } finally {
    closeSync(fd);
  }
  return h.digest('hex') as FileHash;
}
