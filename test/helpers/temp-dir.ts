/**
 * A temporary directory removed when the test process exits (node:test runs each test file in a process of its
 * own), for fixtures that hand their directories from test to test, where a per-test rmSync is easy to miss: the
 * suite left ~60 directories in the system's temp dir per run before these used it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const made: string[] = [];
process.on('exit', () => {
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
});

export function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  made.push(dir);
  return dir;
}
