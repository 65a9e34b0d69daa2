/**
 * An unknown target on the command line: the message says what the user most likely meant (a close name or id,
 * a pattern for cell values given in the wrong shape) or lists what there is, never just "unknown".
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { selectTargets } from '../../src/pipeline/select-targets.js';
import { loadOk } from './helpers.js';

const YAML = `matrix:
  behavior: [honesty, sycophancy]
  adapter: [lora, dora]
  seed: [0]
stages:
  data: { uses: prompt, foreach: behavior, with: { anchor: a } }
  train: { uses: prompt, foreach: [behavior, adapter, seed], with: { anchor: a } }
  eval: { uses: prompt, foreach: [behavior, adapter, seed], with: { anchor: a } }
`;

function errorOf(result: ReturnType<typeof selectTargets>): string {
  assert.ok(!result.ok, 'the target is unknown');
  return result.error;
}

void test('a misspelt name or id gets the closest one', async () => {
  const p = await loadOk(YAML);
  assert.equal(errorOf(selectTargets(p, ['trian'])), 'unknown target "trian" (did you mean "train"?)');
  assert.equal(errorOf(selectTargets(p, ['eval@honesty-lroa-0'])), 'unknown target "eval@honesty-lroa-0" (did you mean "eval@honesty-lora-0"?)');
});

void test('cell values in the wrong shape get the pattern that selects them, and it does select them', async () => {
  const p = await loadOk(YAML);
  const message = errorOf(selectTargets(p, ['eval@lora']));
  assert.equal(message, 'unknown target "eval@lora": eval\'s cells are behavior-adapter-seed (e.g. eval@honesty-lora-0); did you mean "eval@*-lora-*" (2 stages)?');
  const suggested = selectTargets(p, ['eval@*-lora-*']);
  assert.ok(suggested.ok);
  assert.deepEqual(suggested.value.filter((id) => id.startsWith('eval@')), ['eval@honesty-lora-0', 'eval@sycophancy-lora-0']);
});

void test('a value no cell has names the axes; a name nothing resembles lists the stages', async () => {
  const p = await loadOk(YAML);
  assert.equal(errorOf(selectTargets(p, ['eval@oft'])), 'unknown target "eval@oft": eval\'s cells are eval@behavior-adapter-seed, e.g. eval@honesty-lora-0');
  assert.equal(
    errorOf(selectTargets(p, ['nothing-like-it'])),
    'unknown target "nothing-like-it": stages are data, train, eval (a name means all its cells; one cell is e.g. data@honesty, a pattern data@*)',
  );
});
