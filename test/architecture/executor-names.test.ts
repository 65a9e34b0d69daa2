/**
 * DESIGN.md ("Execution"): everything particular to one executor sits in its folder behind ExecutorKind. Checked
 * on the source, comments left out: outside src/engine/exec/slurm/ only the CLI's flag parsing and its executor
 * catalog name SLURM.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { REPO_ROOT } from '../helpers/import-graph.js';

const ALLOWED = new Set(['src/cli/commands/pipeline-commands.ts', 'src/cli/executor-catalog.ts']);
const NAMES = /slurm|sbatch|squeue|scancel|sacct/i;

/** The source without its comments (a string holding "//" or "/*" is not in these files' code). */
function code(text: string): string {
  return text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`])\/\/.*$/gm, '$1');
}

void test('SLURM is named only in its executor folder and the CLI flag parsing', () => {
  const files = readdirSync(join(REPO_ROOT, 'src'), { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.ts'))
    .map((f) => `src/${f.split('\\').join('/')}`);
  assert.ok(files.length > 100, `only ${files.length} source files found`);
  const inside = files.filter((f) => f.startsWith('src/engine/exec/slurm/'));
  assert.ok(inside.some((f) => NAMES.test(code(readFileSync(join(REPO_ROOT, f), 'utf8')))), 'the scan finds the names where they are');
  const leaks = files
    .filter((f) => !f.startsWith('src/engine/exec/slurm/') && !ALLOWED.has(f))
    .flatMap((f) =>
      code(readFileSync(join(REPO_ROOT, f), 'utf8'))
        .split('\n')
        .filter((l) => NAMES.test(l))
        .map((l) => `${f}: ${l.trim()}`),
    );
  assert.deepEqual(leaks, []);
});
