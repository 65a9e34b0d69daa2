/**
 * The engine returns data and events; only the CLI (and its loggers) writes to a terminal. Fails when a file under
 * src/engine touches process.stdout, process.stderr or console, naming the file and line.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import ts from 'typescript';
import { REPO_ROOT, sourceFiles } from '../helpers/import-graph.js';

/**
 * The local worker's entry is a process of its own whose stdout and stderr are pipes the executor reads as the
 * stage's output (never a terminal): it writes an end-of-output marker there so the parent knows all output arrived.
 */
const EXEMPT: ReadonlyMap<string, string> = new Map([['src/engine/worker/stage-worker.ts', 'its stdout/stderr are the stage output pipes']]);

/** `file:line: text` for every use of process.stdout / process.stderr / console in the source text. */
export function terminalWrites(file: string, text: string): string[] {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const found: string[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isPropertyAccessExpression(node) && ts.isIdentifier(node.expression)) {
      const obj = node.expression.text;
      const prop = node.name.text;
      if (obj === 'console' || (obj === 'process' && (prop === 'stdout' || prop === 'stderr'))) {
        const { line } = source.getLineAndCharacterOfPosition(node.getStart());
        found.push(`${file}:${line + 1}: ${node.getText()}`);
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

void test('no file under src/engine writes to a terminal (process.stdout, process.stderr, console)', () => {
  const files = sourceFiles(['src/engine']);
  assert.ok(files.length > 50, `only ${files.length} engine files found`);
  const writes = files.filter((f) => !EXEMPT.has(f)).flatMap((f) => terminalWrites(f, readFileSync(join(REPO_ROOT, f), 'utf8')));
  assert.deepEqual(writes, []);
});

void test('the exemptions still exist and still need exempting', () => {
  for (const f of EXEMPT.keys()) assert.notDeepEqual(terminalWrites(f, readFileSync(join(REPO_ROOT, f), 'utf8')), [], `${f} no longer writes: drop it from EXEMPT`);
});

void test('the check finds each kind of terminal write, and not the words in a comment', () => {
  assert.equal(terminalWrites('a.ts', 'process.stdout.write("x");').length, 1);
  assert.equal(terminalWrites('a.ts', 'const e = process.stderr;').length, 1);
  assert.equal(terminalWrites('a.ts', 'console.log(1); console.error(2);').length, 2);
  assert.equal(terminalWrites('a.ts', '// process.stdout.write\nconst s = "console.log";').length, 0);
  assert.equal(terminalWrites('a.ts', 'process.on("SIGINT", f); env.stdout.write("x");').length, 0);
});
