/**
 * DESIGN.md ("Stage kinds"): a built-in kind declares its params' schema once and receives them typed through
 * defineKind, so no stage casts a param (issue 13 counted 39 `ctx.params['coeffs'] as number[]`). Checked on the
 * source of stages/, comments left out.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { REPO_ROOT } from '../helpers/import-graph.js';

/** a param read and cast in one expression: `params.x as T`, `params['x'] as T`, `(params as …)` */
const CAST = /\bparams(?:\.\w+|\[[^\]]+\])?\s*\)?\s+as\s+(?!const\b)/;

function code(text: string): string {
  return text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`])\/\/.*$/gm, '$1');
}

function casts(source: string): string[] {
  return code(source)
    .split('\n')
    .filter((l) => CAST.test(l))
    .map((l) => l.trim());
}

void test('no stage casts its params', () => {
  const files = readdirSync(join(REPO_ROOT, 'stages'), { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.ts'))
    .map((f) => `stages/${f.split('\\').join('/')}`);
  assert.ok(files.length > 50, `only ${files.length} stage files found`);
  const found = files.flatMap((f) => casts(readFileSync(join(REPO_ROOT, f), 'utf8')).map((l) => `${f}: ${l}`));
  assert.deepEqual(found, []);
});

void test('the check finds each form of cast, and not a comment or `as const`', () => {
  assert.deepEqual(casts("const c = ctx.params['coeffs'] as number[];"), ["const c = ctx.params['coeffs'] as number[];"]);
  assert.equal(casts('const s = ctx.params.steps as number;').length, 1);
  assert.equal(casts('const p = (ctx.params as Record<string, number>).lr;').length, 1);
  assert.equal(casts('// ctx.params.steps as number was the old way').length, 0);
  assert.equal(casts('const schema = { params: {} } as const;').length, 0);
  assert.equal(casts('const s: number = ctx.params.steps;').length, 0);
});
