/**
 * The fault classifier: real errors from the file system and SQLite become one line naming the path and the remedy;
 * anything else (a bug) is not dressed up as a fault. Errors that root cannot provoke (EACCES: root ignores mode
 * bits) are built as Node builds them, with code, syscall and path.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describeFault, FaultError, noteStateDbPath } from '../../../src/engine/util/faults.js';

function caught(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error('expected a throw');
}

function errno(code: string, syscall: string, path: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`${code}: ${syscall} '${path}'`), { code, syscall, path, errno: -1 });
}

void test('file-system faults are one line with the path and what to do', () => {
  assert.match(describeFault(errno('ENOSPC', 'write', '/p/cache/objects/ab/cd')) ?? '', /^no space left on the device writing \/p\/cache\/objects\/ab\/cd; free some space/);
  assert.match(describeFault(errno('EACCES', 'open', '/p/out/x')) ?? '', /^permission denied: \/p\/out\/x \(open\); check the owner and mode/);
  assert.match(describeFault(errno('EROFS', 'mkdir', '/p/cache')) ?? '', /^read-only file system: \/p\/cache \(mkdir\)/);
  const copy = Object.assign(errno('ENOSPC', 'copyfile', '/p/src'), { dest: '/p/cache/objects/x.tmp' });
  assert.match(describeFault(copy) ?? '', /writing \/p\/cache\/objects\/x\.tmp;/, 'a copy names what it was writing');
  const missing = caught(() => readFileSync(join(tmpdir(), 'wsflow-no-such-file')));
  assert.equal(describeFault(missing), undefined, 'ENOENT is not a machine fault: the caller reports it');
  assert.equal(describeFault(new TypeError('x is undefined')), undefined, 'a bug keeps its stack');
  assert.equal(describeFault(new FaultError('said already')), 'said already');
});

void test("SQLite's faults name the state database; a damaged one says how to start over", () => {
  const dir = mkdtempSync(join(tmpdir(), 'wsflow-faults-'));
  try {
    const path = join(dir, 'state.db');
    writeFileSync(path, 'garbage '.repeat(1000));
    noteStateDbPath(path);
    const notADb = caught(() => new Database(path).pragma('journal_mode = WAL'));
    const line = describeFault(notADb) ?? '';
    assert.match(line, /^the state database .*state\.db is damaged \(file is not a database\); it only records runs/);
    assert.match(line, /`mv .*state\.db .*state\.db\.damaged && rm -f .*state\.db-wal .*state\.db-shm`/);
    const readonly = new Database(path.replace('state.db', 'ro.db'));
    readonly.exec('CREATE TABLE t (x)');
    readonly.close();
    const r = new Database(path.replace('state.db', 'ro.db'), { readonly: true });
    assert.match(describeFault(caught(() => r.exec('INSERT INTO t VALUES (1)'))) ?? '', /^the state database .* is read-only/);
    r.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
