/**
 * The content-addressed cache under `cache/`:
 *
 *   objects/ab/cdef…   file contents and tree manifests, named by sha256, read-only (0444)
 *   trees/<treehash>/  immutable materialised output trees (hard links to objects): upstream inputs of stages
 *   tmp/<pid>-…/       staging; anything here whose process is gone is garbage
 *   logs/<exec>.log    stage logs
 *
 * Every write goes to a temporary name on the same filesystem and is then renamed, so an interrupted write never
 * leaves something under a final name. Nothing here decides what is a hit: the state database does, and a hit is
 * checked with `verifyTree` (objects exist, sizes match) before it is trusted.
 */
import {
  chmodSync,
  closeSync,
  constants as fsConstants,
  copyFileSync,
  existsSync,
  linkSync,
  lstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  unlinkSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { createHash, randomBytes } from 'node:crypto';
import { dirname, join } from 'node:path';
import type { FileHash, TreeHash } from '../keys/hashing.js';
import { hashFileSync } from '../keys/file-hasher.js';
import { parseManifest, serializeManifest, treeHashOf, walkFiles, type TreeEntry, type TreeManifest } from '../keys/tree-manifest.js';
import { isPidAlive } from '../util/process-util.js';
import { crashPoint } from '../util/crash-points.js';
import { sha256Hex } from '../keys/hashing.js';
import { err, ok, type Result } from '../../contract/result.js';

/** The tree's manifest, or what is missing or wrong in the cache. */
export type VerifyResult = Result<TreeManifest, string>;

/** A cache object whose bytes do not hash to its name: found while restoring it, never served. */
export class CorruptObjectError extends Error {
  constructor(
    readonly hash: string,
    /** the path inside the output it was restoring */
    readonly path: string,
  ) {
    super(`cache object ${hash.slice(0, 12)} for ${path} does not match its content hash`);
  }
}

const COPY_CHUNK = 4 * 1024 * 1024;

/**
 * The names wsflow gives what it creates in the cache; gc and fsck touch nothing else. An object is
 * objects/<2 hex>/<62 hex>, written first as <62 hex>.tmp-<pid>-<hex>; a materialised tree is trees/<64 hex>.
 */
export const CACHE_NAMES = {
  objectPrefix: /^[0-9a-f]{2}$/,
  objectRest: /^[0-9a-f]{62}$/,
  objectTemp: /^[0-9a-f]{62}\.tmp-\d+-[0-9a-f]+$/,
  tree: /^[0-9a-f]{64}$/,
} as const;

export class CacheStore {
  readonly dir: string;
  readonly objectsDir: string;
  readonly treesDir: string;
  readonly tmpDir: string;
  readonly logsDir: string;
  #copyBuffer: Buffer | undefined;

  constructor(cacheDir: string) {
    this.dir = cacheDir;
    this.objectsDir = join(cacheDir, 'objects');
    this.treesDir = join(cacheDir, 'trees');
    this.tmpDir = join(cacheDir, 'tmp');
    this.logsDir = join(cacheDir, 'logs');
  }

  objectPath(hash: string): string {
    return join(this.objectsDir, hash.slice(0, 2), hash.slice(2));
  }

  treePath(hash: TreeHash): string {
    return join(this.treesDir, hash);
  }

  /** A fresh private staging directory, named after this process so that a later run can tell it is garbage. */
  newStagingDir(label: string): string {
    mkdirSync(this.tmpDir, { recursive: true });
    const dir = join(this.tmpDir, `${process.pid}-${safeName(label)}-${randomBytes(4).toString('hex')}`);
    mkdirSync(dir, { recursive: true });
    return dir;
  }

  /**
   * Stores the files of a finished stage's staging directory by moving them into objects/ (rename: no copy of
   * large weights). Returns the tree hash; the manifest object is written last.
   */
  ingestDirByRename(stagingDir: string): { hash: TreeHash; manifest: TreeManifest } {
    const entries: TreeEntry[] = [];
    for (const f of walkFiles(stagingDir, { followSymlinks: false })) {
      const hash = hashFileSync(f.abs);
      const size = f.stat.size;
      const exec = (f.stat.mode & 0o111) !== 0;
      if (!this.#hasIntactObject(hash, size)) {
        chmodSync(f.abs, 0o444);
        const dest = this.objectPath(hash);
        mkdirSync(dirname(dest), { recursive: true });
        renameSync(f.abs, dest);
      }
      entries.push({ path: f.rel, hash, size, exec });
    }
    const manifest = { files: entries };
    return { hash: this.putManifest(manifest), manifest };
  }

  /** Stores files that must stay where they are (cmd outs in the project) by copying them into objects/. */
  ingestFilesByCopy(files: readonly { rel: string; abs: string }[]): { hash: TreeHash; manifest: TreeManifest } {
    const entries: TreeEntry[] = [];
    for (const f of files) {
      const st = statSync(f.abs);
      const hash = hashFileSync(f.abs);
      if (!this.#hasIntactObject(hash, st.size)) this.#writeObjectFromFile(hash, f.abs);
      // re-stat: a size that changed while we hashed means the command is still writing (a leaked background job)
      const after = statSync(f.abs);
      if (after.size !== st.size || after.mtimeMs !== st.mtimeMs) throw new Error(`${f.rel} changed while it was being cached`);
      entries.push({ path: f.rel, hash, size: st.size, exec: (st.mode & 0o111) !== 0 });
    }
    const manifest = { files: entries };
    return { hash: this.putManifest(manifest), manifest };
  }

  putManifest(manifest: TreeManifest): TreeHash {
    const text = serializeManifest(manifest);
    const hash = treeHashOf(manifest);
    if (!this.#hasIntactObject(hash, Buffer.byteLength(text))) this.#writeObjectBytes(hash, text);
    return hash;
  }

  /** The manifest, or null when it is missing or damaged (its bytes must hash to its name: it says where files go). */
  readManifest(hash: TreeHash): TreeManifest | null {
    try {
      const bytes = readFileSync(this.objectPath(hash));
      if (sha256Hex(bytes) !== hash) return null;
      return parseManifest(bytes.toString('utf8'));
    } catch {
      return null;
    }
  }

  /** A hit is trusted only if its manifest and every object it names exist with the recorded size. */
  verifyTree(hash: TreeHash): VerifyResult {
    const manifest = this.readManifest(hash);
    if (!manifest) return err(`manifest ${hash.slice(0, 12)} is missing from cache/objects`);
    for (const f of manifest.files) {
      let size: number;
      try {
        size = statSync(this.objectPath(f.hash)).size;
      } catch {
        return err(`cache object for ${f.path} is missing`);
      }
      if (size !== f.size) return err(`cache object for ${f.path} has ${size} bytes, expected ${f.size}`);
    }
    return ok(manifest);
  }

  /**
   * An immutable directory holding the tree's files (hard links to the read-only objects), created once and shared
   * by every stage that reads this output: it cannot change under a running stage, whatever happens in out/.
   */
  /**
   * Every use hashes the tree's files (a stage reads its inputs anyway, and a tree shares its objects' inodes, so
   * damage to an object is damage to the tree): a damaged tree is made again. A damaged or missing object is
   * evicted and stored again from `repairFrom(entry)` — the upstream's copy in out/, which status found to match —
   * when that file has the right bytes; otherwise CorruptObjectError, and the stage does not run on bad input.
   */
  materializeTree(hash: TreeHash, manifest: TreeManifest, repairFrom?: (f: TreeEntry) => string): string {
    const final = this.treePath(hash);
    if (existsSync(final)) {
      if (manifest.files.every((f) => fileHasHash(join(final, f.path), f.hash))) return final;
      removeTree(final);
    }
    for (const f of manifest.files) {
      if (this.objectIsIntact(f.hash)) continue;
      this.evictObject(f.hash, this.treesUsing(f.hash));
      const source = repairFrom?.(f);
      if (source === undefined || !fileHasHash(source, f.hash)) throw new CorruptObjectError(f.hash, f.path);
      this.#writeObjectFromFile(f.hash, source);
    }
    mkdirSync(this.treesDir, { recursive: true });
    const staging = this.newStagingDir(`tree-${hash.slice(0, 12)}`);
    const root = join(staging, 'tree');
    mkdirSync(root);
    const dirs = new Set<string>([root]);
    for (const f of manifest.files) {
      const dest = join(root, f.path);
      const parent = dirname(dest);
      if (!dirs.has(parent)) {
        mkdirSync(parent, { recursive: true });
        dirs.add(parent);
      }
      try {
        linkSync(this.objectPath(f.hash), dest);
      } catch {
        copyFileSync(this.objectPath(f.hash), dest);
        chmodSync(dest, 0o444);
      }
    }
    // directories read-only too, deepest first, so that a stage cannot add files to its input
    for (const d of [...dirs].sort((a, b) => b.length - a.length)) chmodSync(d, 0o555);
    crashPoint('tree-staged');
    try {
      renameSync(root, final);
    } catch (err) {
      if (!existsSync(final)) throw err;
      // another process made the same tree first; ours is identical
    }
    removeTree(staging);
    return final;
  }

  /**
   * Writes copies (reflinks where the filesystem can) of the tree's files to `destAbs`, replacing what was there.
   * The new tree is built next to the destination and swapped in with renames, so a crash leaves either the old
   * or the new content (plus a `.wsflow-tmp` sibling that the next run removes), never a mix.
   * `prefix`: only entries under this relative path, written relative to it ("" = all).
   */
  materializeCopy(manifest: TreeManifest, destAbs: string, prefix = ''): void {
    const parent = dirname(destAbs);
    mkdirSync(parent, { recursive: true });
    removeStaleSiblings(destAbs);
    const base = destAbs.slice(parent.length + 1);
    const tag = `${process.pid}-${randomBytes(4).toString('hex')}`;
    const tmp = join(parent, `.${base}.wsflow-tmp-${tag}`);
    const single = prefix !== '' ? manifest.files.find((f) => f.path === prefix) : undefined;
    try {
      if (single) {
        this.#copyObject(single, tmp);
      } else {
        mkdirSync(tmp);
        const want = prefix === '' ? '' : `${prefix}/`;
        for (const f of manifest.files) {
          if (!f.path.startsWith(want)) continue;
          const dest = join(tmp, f.path.slice(want.length));
          mkdirSync(dirname(dest), { recursive: true });
          this.#copyObject(f, dest);
        }
      }
    } catch (err) {
      // a corrupt object or a full disk: the destination keeps what it had, and no half-copy is left next to it
      removeTree(tmp);
      throw err;
    }
    crashPoint('out-staged');
    const old = join(parent, `.${base}.wsflow-old-${tag}`);
    let moved = false;
    try {
      renameSync(destAbs, old);
      moved = true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    crashPoint('out-old-moved');
    renameSync(tmp, destAbs);
    crashPoint('out-swapped');
    if (moved) removeTree(old);
  }

  /** Removes staging directories left by processes that no longer exist (crashed or killed runs). */
  removeStaleStaging(): void {
    let names: string[];
    try {
      names = readdirSync(this.tmpDir);
    } catch {
      return;
    }
    for (const name of names) {
      const pid = Number(name.split('-')[0]);
      if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && !isPidAlive(pid)) removeTree(join(this.tmpDir, name));
    }
  }

  /**
   * Whether an object with these bytes is already stored. One of the right size is hashed before it is trusted
   * (a stage that reproduces an output must not be recorded against a damaged copy); a damaged one is dropped with
   * the trees that hard-link it, so the caller writes it afresh and every record naming it is whole again.
   */
  #hasIntactObject(hash: string, size: number): boolean {
    let st;
    try {
      st = lstatSync(this.objectPath(hash));
    } catch {
      return false;
    }
    if (st.isFile() && st.size === size && this.objectIsIntact(hash)) return true;
    this.evictObject(hash, this.treesUsing(hash));
    return false;
  }

  /** The materialised trees whose manifest names the object (read only when an object turns out damaged). */
  treesUsing(hash: string): TreeHash[] {
    let names: string[];
    try {
      names = readdirSync(this.treesDir);
    } catch {
      return [];
    }
    return names.filter((n) => CACHE_NAMES.tree.test(n) && this.readManifest(n as TreeHash)?.files.some((f) => f.hash === hash)) as TreeHash[];
  }

  #writeObjectBytes(hash: string, data: string | Uint8Array): void {
    this.#writeObject(hash, (tmp) => writeFileSync(tmp, data, { mode: 0o444 }));
  }

  #writeObjectFromFile(hash: FileHash, src: string): void {
    this.#writeObject(hash, (tmp) => {
      copyFileSync(src, tmp, fsConstants.COPYFILE_FICLONE);
      chmodSync(tmp, 0o444);
    });
  }

  /** `fill` writes the object's content to a private temporary name, which is then renamed into place. */
  #writeObject(hash: string, fill: (tmp: string) => void): void {
    const dest = this.objectPath(hash);
    mkdirSync(dirname(dest), { recursive: true });
    const tmp = `${dest}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
    try {
      fill(tmp);
      crashPoint('object-written');
      renameSync(tmp, dest);
    } catch (err) {
      // a full disk mid-copy: leave no partial object behind (the name alone never counts, but it holds space)
      rmSync(tmp, { force: true });
      throw err;
    }
  }

  /**
   * Copies an object out of the cache, hashing the bytes as they pass: a restore reads them anyway, and an object
   * damaged in place (same size, other bytes) must never be served. A writable copy: users may edit out/.
   */
  #copyObject(f: TreeEntry, dest: string): void {
    const buf = (this.#copyBuffer ??= Buffer.allocUnsafe(COPY_CHUNK));
    const h = createHash('sha256');
    const from = openSync(this.objectPath(f.hash), 'r');
    try {
      const to = openSync(dest, 'wx', f.exec ? 0o755 : 0o644);
      try {
        for (;;) {
          const n = readSync(from, buf, 0, COPY_CHUNK, null);
          if (n === 0) break;
          const chunk = n === COPY_CHUNK ? buf : buf.subarray(0, n);
          h.update(chunk);
          for (let off = 0; off < n; ) off += writeSync(to, chunk, off, n - off);
        }
      } finally {
        closeSync(to);
      }
    } finally {
      closeSync(from);
    }
    if (h.digest('hex') !== f.hash) {
      unlinkSync(dest);
      throw new CorruptObjectError(f.hash, f.path);
    }
  }

  /** Whether the object's bytes hash to its name (reads it whole); false when it cannot be read. */
  objectIsIntact(hash: string): boolean {
    try {
      return hashFileSync(this.objectPath(hash)) === hash;
    } catch {
      return false;
    }
  }

  /**
   * Removes a damaged object and every materialised tree that hard-links it (they share its inode, so they are
   * damaged too). Returns the hashes of the trees removed. Only regular files and directories wsflow made are
   * touched: lstat, never a followed link.
   */
  evictObject(hash: string, treesReferencing: readonly TreeHash[]): TreeHash[] {
    const path = this.objectPath(hash);
    try {
      if (lstatSync(path).isFile()) unlinkSync(path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    const removed: TreeHash[] = [];
    for (const tree of treesReferencing) {
      const dir = this.treePath(tree);
      try {
        if (!lstatSync(dir).isDirectory()) continue;
      } catch {
        continue;
      }
      removeTree(dir);
      removed.push(tree);
    }
    return removed;
  }
}

function fileHasHash(path: string, hash: string): boolean {
  try {
    return hashFileSync(path) === hash;
  } catch {
    return false;
  }
}

/** rm -rf that also works on our read-only trees. */
export function removeTree(path: string): void {
  try {
    rmSync(path, { recursive: true, force: true });
    return;
  } catch {
    // read-only directories: make them writable and retry
  }
  makeWritable(path);
  rmSync(path, { recursive: true, force: true });
}

function makeWritable(path: string): void {
  let st;
  try {
    // lstat: a link inside the tree is removed, never followed (its target may be anywhere)
    st = lstatSync(path);
  } catch {
    return;
  }
  if (!st.isDirectory()) return;
  chmodSync(path, 0o755);
  for (const name of readdirSync(path)) makeWritable(join(path, name));
}

/** `.name.wsflow-tmp-PID-…` / `.name.wsflow-old-PID-…` left next to an out path by a killed process. */
export function removeStaleSiblings(destAbs: string): void {
  const parent = dirname(destAbs);
  const base = destAbs.slice(parent.length + 1);
  let names: string[];
  try {
    names = readdirSync(parent);
  } catch {
    return;
  }
  const re = new RegExp(`^\\.${escapeRe(base)}\\.wsflow-(?:tmp|old)-(\\d+)-[0-9a-f]+$`);
  for (const name of names) {
    const m = re.exec(name);
    if (m && !isPidAlive(Number(m[1]))) removeTree(join(parent, name));
  }
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function safeName(label: string): string {
  return label.replace(/[^A-Za-z0-9_.@-]+/g, '_').slice(0, 60);
}
