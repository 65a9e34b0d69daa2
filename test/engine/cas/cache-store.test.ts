import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, statSync, truncateSync, unlinkSync, utimesSync, writeFileSync, existsSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CacheStore, removeTree } from '../../../src/engine/cas/cache-store.js';
import { FileHasher, hashFileSync } from '../../../src/engine/keys/file-hasher.js';
import { openStateDb } from '../../../src/engine/state/state-db.js';
import { treeHashOf } from '../../../src/engine/keys/tree-manifest.js';

function tmp(): string {
  return mkdtempSync(join(tmpdir(), 'wsflow-cas-'));
}

function stageOutput(cache: CacheStore, files: Record<string, string>): string {
  const dir = cache.newStagingDir('t');
  for (const [p, c] of Object.entries(files)) {
    mkdirSync(join(dir, p, '..'), { recursive: true });
    writeFileSync(join(dir, p), c);
  }
  return dir;
}

void test('an output directory is stored as objects plus a manifest, and verified on hit', () => {
  const root = tmp();
  try {
    const cache = new CacheStore(join(root, 'cache'));
    const staged = stageOutput(cache, { 'a.txt': 'alpha', 'sub/b.txt': 'beta', 'sub/c.txt': 'alpha' });
    const { hash, manifest } = cache.ingestDirByRename(staged);
    assert.equal(hash, treeHashOf(manifest));
    assert.deepEqual(
      manifest.files.map((f) => f.path),
      ['a.txt', 'sub/b.txt', 'sub/c.txt'],
    );
    // identical content is stored once
    assert.equal(manifest.files[0]?.hash, manifest.files[2]?.hash);
    // moved, not copied; only the duplicate stays behind (its object already existed) for the caller to delete
    const left = readdirSync(staged, { recursive: true }).filter((n) => statSync(join(staged, String(n))).isFile());
    assert.deepEqual(left, ['sub/c.txt']);
    const ok = cache.verifyTree(hash);
    assert.equal(ok.ok, true);
    // objects are read-only
    assert.equal(statSync(cache.objectPath(manifest.files[1]?.hash ?? '')).mode & 0o222, 0);

    // a truncated object is caught by the size check
    const beta = cache.objectPath(manifest.files[1]?.hash ?? '');
    truncateSync(beta, 2);
    const truncated = cache.verifyTree(hash);
    assert.equal(truncated.ok, false);
    assert.match(truncated.ok ? '' : truncated.error, /sub\/b\.txt has 2 bytes, expected 4/);
    unlinkSync(beta);
    const missing = cache.verifyTree(hash);
    assert.match(missing.ok ? '' : missing.error, /sub\/b\.txt is missing/);
    unlinkSync(cache.objectPath(hash));
    assert.match((cache.verifyTree(hash) as { error: string }).error, /manifest .* is missing/);
  } finally {
    removeTree(root);
  }
});

void test('trees are immutable hard-linked copies; materializeCopy swaps in writable copies', () => {
  const root = tmp();
  try {
    const cache = new CacheStore(join(root, 'cache'));
    const { hash, manifest } = cache.ingestDirByRename(stageOutput(cache, { 'w.bin': 'weights', 'd/x.txt': 'x' }));
    const tree = cache.materializeTree(hash, manifest);
    assert.equal(readFileSync(join(tree, 'd/x.txt'), 'utf8'), 'x');
    assert.equal(statSync(join(tree, 'd')).mode & 0o222, 0, 'tree directories are read-only');
    const weights = manifest.files.find((f) => f.path === 'w.bin');
    assert.equal(statSync(join(tree, 'w.bin')).ino, statSync(cache.objectPath(weights?.hash ?? '')).ino);
    assert.equal(cache.materializeTree(hash, manifest), tree, 'made once');

    const out = join(root, 'out', 'stage');
    mkdirSync(out, { recursive: true });
    writeFileSync(join(out, 'stale.txt'), 'old');
    cache.materializeCopy(manifest, out);
    assert.deepEqual(readdirSync(out).sort(), ['d', 'w.bin']);
    // a user's edit in out/ does not reach the cache
    writeFileSync(join(out, 'w.bin'), 'edited');
    assert.equal(readFileSync(cache.objectPath(weights?.hash ?? ''), 'utf8'), 'weights');
    assert.equal(cache.verifyTree(hash).ok, true);
    // no temp siblings left behind
    assert.deepEqual(readdirSync(join(root, 'out')), ['stage']);
  } finally {
    removeTree(root);
  }
});

void test('staging directories of dead processes are garbage; ours are kept', () => {
  const root = tmp();
  try {
    const cache = new CacheStore(join(root, 'cache'));
    const mine = cache.newStagingDir('live');
    const dead = join(cache.tmpDir, '999999999-x-00000000');
    mkdirSync(dead, { recursive: true });
    cache.removeStaleStaging();
    assert.equal(existsSync(mine), true);
    assert.equal(existsSync(dead), false);
  } finally {
    removeTree(root);
  }
});

void test("a load's stat of an out stands in for the assessment's only where the memo knows it, and only once", () => {
  const root = tmp();
  try {
    const db = openStateDb(join(root, 'cache', 'state.db'));
    const file = join(root, 'out.txt');
    writeFileSync(file, 'x'.repeat(100));
    const old = new Date(Date.now() - 60_000);
    utimesSync(file, old, old);
    new FileHasher(db).hashFile(file);
    const atLoad = statSync(file, { bigint: true });

    const h = new FileHasher(db);
    h.primeStats(new Map([[file, atLoad]]));
    assert.equal(h.statForHash(file), atLoad, 'the memo knows this signature: the load stat is used');
    assert.notEqual(h.statForHash(file), atLoad, 'used once: a second check stats the file again');
    assert.equal(h.rehashed, 0);

    // edited after the load was stat'ed, before the memo knew the new content: the load stat is not used, and the
    // hash is of what the file holds now
    const h2 = new FileHasher(db);
    const kept = new Map([[file, atLoad]]);
    h2.primeStats(kept);
    writeFileSync(file, 'y'.repeat(100));
    utimesSync(file, old, new Date(old.getTime() + 1000));
    const edited = statSync(file, { bigint: true });
    const h3 = new FileHasher(db);
    h3.primeStats(new Map([[file, edited]]));
    const st = h3.statForHash(file);
    assert.notEqual(st, edited, 'a signature the memo does not know: stat afresh');
    assert.equal(h3.hashFile(file, st), hashFileSync(file));
    assert.equal(h3.rehashed, 1);

    // forgotten (a run's scheduler after its no-op check): never used, and the map handed in is emptied, so a
    // pipeline object kept for later (Pipeline.outStats) cannot hand the same stats on again
    h2.forgetPrimedStats();
    assert.equal(kept.size, 0);
    assert.notEqual(h2.statForHash(file), atLoad);
    db.close();
  } finally {
    removeTree(root);
  }
});

void test('file hashes are memoised by (path, size, mtime, inode) and not trusted inside the racy window', () => {
  const root = tmp();
  try {
    const db = openStateDb(join(root, 'cache', 'state.db'));
    const file = join(root, 'weights.bin');
    writeFileSync(file, 'x'.repeat(1000));
    const old = new Date(Date.now() - 60_000);
    utimesSync(file, old, old);
    const h1 = new FileHasher(db);
    const first = h1.hashFile(file);
    assert.equal(first, hashFileSync(file));
    assert.equal(h1.rehashed, 1);
    const h2 = new FileHasher(db);
    assert.equal(h2.hashFile(file), first);
    assert.equal(h2.rehashed, 0, 'second process reads the memo');

    // same size, new content, new mtime: rehashed
    writeFileSync(file, 'y'.repeat(1000));
    const h3 = new FileHasher(db);
    assert.notEqual(h3.hashFile(file), first);
    assert.equal(h3.rehashed, 1);
    // just written (inside the racy window): not trusted yet, so hashed again
    const h4 = new FileHasher(db);
    h4.hashFile(file);
    assert.equal(h4.rehashed, 1);

    // one hasher over a run: its per-process memo compares the whole stat signature, so an edit between two of its
    // checks is seen (same size, new mtime; then same size and mtime, another inode)
    const h5 = new FileHasher(db);
    const before = h5.hashFile(file);
    writeFileSync(file, 'z'.repeat(1000));
    utimesSync(file, old, old);
    const edited = h5.hashFile(file);
    assert.notEqual(edited, before, 'edited between two checks of one hasher');
    assert.equal(edited, hashFileSync(file));
    const other = join(root, 'weights.new');
    writeFileSync(other, 'w'.repeat(1000));
    utimesSync(other, old, old);
    renameSync(other, file);
    assert.equal(h5.hashFile(file), hashFileSync(file), 'replaced by another inode with the same size and mtime');

    const dir = join(root, 'model');
    mkdirSync(join(dir, 'sub'), { recursive: true });
    writeFileSync(join(dir, 'a'), '1');
    writeFileSync(join(dir, 'sub', 'b'), '2');
    const d1 = h4.hashPath(dir);
    assert.equal(d1.kind, 'dir');
    assert.equal(d1.files, 2);
    writeFileSync(join(dir, 'sub', 'c'), '3');
    assert.notEqual(h4.hashPath(dir).hash, d1.hash);
    db.close();
  } finally {
    removeTree(root);
  }
});
