/**
 * Hashing a 1 GiB file: wsflow's file hasher (sha256, node:crypto, 8 MiB reads) against `sha256sum` and `b3sum`
 * on the same file (page cache warm for all: a first read primes it); then the memo: a second `wsflow status` on a
 * project whose cmd stage depends on the unchanged 1 GiB file must not rehash it (target < 50 ms for the lookup).
 *
 *   node dist/bench/engine/hash-bench.js [--size-mib 1024] [--repeat 3] [--dir DIR]
 */
import { spawnSync } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, rmSync, utimesSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomFillSync } from 'node:crypto';
import { FileHasher, hashFileSync } from '../../src/engine/keys/file-hasher.js';
import { openStateDb } from '../../src/engine/state/state-db.js';
import { argValue, header, load, measure, repeat, table, tool, WSFLOW } from './bench-util.js';

function makeFile(path: string, bytes: number): void {
  const chunk = Buffer.allocUnsafe(16 * 1024 * 1024);
  const fd = openSync(path, 'w');
  try {
    for (let written = 0; written < bytes; written += chunk.length) {
      randomFillSync(chunk);
      writeSync(fd, chunk, 0, Math.min(chunk.length, bytes - written));
    }
  } finally {
    closeSync(fd);
  }
  // a model file is old: outside the memo's racy window (a file written in the last 2 s is always rehashed)
  const old = new Date(Date.now() - 60_000);
  utimesSync(path, old, old);
}

function timeMs(fn: () => void): number {
  const t0 = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? (s[m] ?? NaN) : ((s[m - 1] ?? NaN) + (s[m] ?? NaN)) / 2;
}

function main(): void {
  const loadAtStart = load();
  const mib = Number(argValue('--size-mib', '1024'));
  const reps = Number(argValue('--repeat', '3'));
  const root = argValue('--dir', '') || mkdtempSync(join(tmpdir(), 'wsflow-hash-bench-'));
  const bytes = mib * 1024 * 1024;
  const file = join(root, 'big.bin');
  const rows: string[][] = [];
  try {
    mkdirSync(root, { recursive: true });
    process.stderr.write(`writing ${mib} MiB of random bytes…\n`);
    makeFile(file, bytes);
    spawnSync('cat', [file], { stdio: ['ignore', 'ignore', 'ignore'] }); // warm the page cache

    const ours = median(Array.from({ length: reps }, () => timeMs(() => hashFileSync(file))));
    const gib = bytes / 1024 ** 3;
    rows.push(['wsflow file hasher (sha256, in process)', `${(ours / 1000).toFixed(2)} s`, `${(gib / (ours / 1000)).toFixed(2)} GiB/s`]);
    for (const [name, argv] of [
      ['sha256sum', ['sha256sum', file]],
      ['b3sum (BLAKE3, multithreaded)', ['b3sum', file]],
      ['b3sum --num-threads 1', ['b3sum', '--num-threads', '1', file]],
    ] as const) {
      if (!tool(argv[0])) {
        rows.push([name, 'not installed', '']);
        continue;
      }
      const m = repeat(reps, () => measure(argv, root));
      rows.push([name, `${m.wallS.toFixed(2)} s`, `${(gib / m.wallS).toFixed(2)} GiB/s`]);
    }

    // the memo: first hash stores (path, size, mtime, inode) → sha256; a later process only stats the file
    const db = openStateDb(join(root, 'memo', 'state.db'));
    const first = new FileHasher(db);
    const firstMs = timeMs(() => first.hashFile(file));
    const second = new FileHasher(db);
    const secondMs = timeMs(() => second.hashFile(file));
    if (second.rehashed !== 0) throw new Error('the memo did not hold: the unchanged file was hashed again');
    db.close();
    rows.push(['memo, first hash (stores the entry)', `${firstMs.toFixed(0)} ms`, '']);
    rows.push(['memo hit: unchanged file, fresh hasher reading the state db', `${secondMs.toFixed(2)} ms`, secondMs < 50 ? 'under 50 ms: not rehashed' : 'OVER 50 ms']);

    // end to end: wsflow status on a project with a cmd stage whose dep is the 1 GiB file
    const project = join(root, 'project');
    mkdirSync(project);
    writeFileSync(join(project, 'pipeline.yaml'), `stages:\n  size:\n    cmd: "wc -c < ../big.bin > size.txt"\n    deps: [../big.bin]\n    outs: [size.txt]\n`);
    const run = spawnSync(process.execPath, [WSFLOW, 'run'], { cwd: project, encoding: 'utf8' });
    if (run.status !== 0) {
      rows.push([`wsflow status with a ${mib} MiB dep`, `run failed: ${(run.stderr || run.stdout).split('\n')[0] ?? ''}`, '']);
    } else {
      const again = repeat(reps, () => measure([process.execPath, WSFLOW, 'status'], project));
      rows.push([`\`wsflow status\`, ${mib} MiB dep unchanged (whole process, Node start-up included)`, `${again.wallS.toFixed(2)} s`, `peak RSS ${again.peakRssMiB.toFixed(0)} MiB, exit ${again.code}`]);
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
  process.stdout.write(
    `${header(`Hashing a ${mib} MiB file (median of ${reps}, page cache warm)`, 'node dist/bench/engine/hash-bench.js', loadAtStart)}${table(
      ['what', 'time', 'throughput / note'],
      rows,
    )}\n`,
  );
}

main();
