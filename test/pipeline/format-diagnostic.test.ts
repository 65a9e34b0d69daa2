import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatDiagnostic } from '../../src/pipeline/format-diagnostic.js';
import type { Diagnostic } from '../../src/pipeline/types.js';
import { loadErrors } from './helpers.js';

void test('a diagnostic prints file:line:col, the cause, the source line and a marker under the span', async () => {
  const yaml = 'stages:\n  ask:\n    uses: promtp\n';
  const [error] = await loadErrors(yaml);
  assert.ok(error);
  assert.equal(
    formatDiagnostic(error, yaml, { color: false }),
    [
      'pipeline.yaml:3:11: error: unknown stage kind "promtp" (did you mean "prompt"?); built-in kinds: prompt, report (a project-local kind is a module path such as ./kinds/promtp.js)',
      '  3 |     uses: promtp',
      '    |           ^~~~~~',
    ].join('\n'),
  );
});

void test('notes print with their own locations; a span over several lines is marked to the end of its first line', async () => {
  const yaml = 'stages:\n  a: { uses: prompt, with: { anchor: a }, needs: { model: b } }\n  b: { uses: prompt, with: { anchor: b }, needs: { model: a } }\n';
  const [cycle] = await loadErrors(yaml);
  assert.ok(cycle);
  assert.equal(
    formatDiagnostic(cycle, yaml, { color: false }),
    [
      'pipeline.yaml:2:3: error: dependency cycle: a → b → a (each needs the next)',
      '  2 |   a: { uses: prompt, with: { anchor: a }, needs: { model: b } }',
      '    |   ^',
      'pipeline.yaml:2:59: note: a needs b',
      '  2 |   a: { uses: prompt, with: { anchor: a }, needs: { model: b } }',
      '    |                                                           ^',
      'pipeline.yaml:3:59: note: b needs a',
      '  3 |   b: { uses: prompt, with: { anchor: b }, needs: { model: a } }',
      '    |                                                           ^',
    ].join('\n'),
  );
  const multi: Diagnostic = {
    severity: 'warning',
    message: 'spans lines',
    span: { file: 'p.yaml', line: 1, col: 3, offset: 2, length: 20 },
  };
  assert.equal(formatDiagnostic(multi, 'a:\tb\nc: d\n', { color: false }), ['p.yaml:1:3: warning: spans lines', '  1 | a:\tb', '    |   ^~'].join('\n'));
});

void test('tabs before the span are kept so the marker lines up; no span prints the cause alone; colour is ANSI', () => {
  const tabbed: Diagnostic = { severity: 'error', message: 'x', span: { file: 'f', line: 1, col: 4, offset: 3, length: 1 } };
  assert.equal(formatDiagnostic(tabbed, 'a:\tb\n', { color: false }), 'f:1:4: error: x\n  1 | a:\tb\n    |   \t^');
  const bare: Diagnostic = { severity: 'error', message: 'cannot read pipeline.yaml: no such file' };
  assert.equal(formatDiagnostic(bare, undefined, { color: false }), 'error: cannot read pipeline.yaml: no such file');
  const coloured = formatDiagnostic(tabbed, 'a:\tb\n', { color: true });
  const esc = String.fromCharCode(27);
  assert.ok(coloured.includes(`${esc}[31m${esc}[1merror:${esc}[0m`));
  assert.equal(coloured.replaceAll(new RegExp(`${esc}\\[[0-9;]*m`, 'g'), ''), formatDiagnostic(tabbed, 'a:\tb\n', { color: false }));
});
