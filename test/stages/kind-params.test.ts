import assert from 'node:assert/strict';
import { test } from 'node:test';
import { builtinKinds } from '../../stages/index.js';
import { checkPromptNames } from '../../stages/lib/steer/param-checks.js';
import { kind, REPO_ROOT, validParams } from './helpers.js';
import { externalInputsOf } from '../../src/contract/stage-kind.js';

const MINE = ['model', 'dilemmas', 'diff', 'repe', 'kl-target', 'calibrate', 'eval-dilemmas', 'eval-iid', 'ablate-delora'];

void test('every experiment kind is registered with a semantic version, a schema that compiles and defaults from the spec', () => {
  for (const name of MINE) {
    const k = builtinKinds.get(name);
    assert.ok(k, name);
    assert.match(k.version, /^\d+\.\d+\.\d+$/);
  }
  const ev = validParams(kind('eval-dilemmas'), {});
  assert.deepEqual(ev['coeffs'], [-1, 0, 1]);
  assert.equal(ev['format'], 'f1');
  assert.equal(ev['anchor'], null, 'null = the format\'s anchor ("My choice: **" for f1)');
  assert.equal(ev['prompt_set'], 'p-v3');
  assert.equal(ev['max_length'], 512);
  assert.equal(ev['choice_rule'], 'latest');
  const kt = validParams(kind('kl-target'), {});
  assert.equal(kt['version'], 'v1');
  assert.equal(kt['n_calib'], 50);
  assert.equal(kt['n_audit'], 100);
  assert.equal(kt['target_prompt'], 'engineered_prompt_honest');
  const cal = validParams(kind('calibrate'), {});
  assert.deepEqual([cal['alpha_init'], cal['max_iters'], cal['band'], cal['lo'], cal['hi'], cal['tol'], cal['max_root_iters']], [1, 4, 0.2, 0.05, 16, 0.05, 12]);
  assert.deepEqual(validParams(kind('eval-iid'), {})['coeffs'], [-2, -1, 0, 1, 2]);
  assert.equal(validParams(kind('eval-iid'), {})['n_held_out'], 12);
  assert.equal(validParams(kind('repe'), {})['n_train_topics'], 20);
  assert.deepEqual(validParams(kind('ablate-delora'), {})['variants'], ['full', 'dir_only', 'mag_only', 'random_norm']);
  assert.equal(validParams(kind('diff'), {})['merge_dtype'], 'bf16');
  assert.throws(() => validParams(kind('eval-dilemmas'), { anchr: 'x' }));
  assert.equal(validParams(kind('eval-dilemmas'), { format: 'f3' })['think_tokens'], 128, 'F3 (guided CoT) with the study\'s 128 think tokens');
  assert.throws(() => validParams(kind('eval-dilemmas'), { format: 'f4' }));
  assert.deepEqual(validParams(kind('dd-benchmark'), {})['coeffs'], [-2, -1, 0, 1, 2]);
});

void test('prompt names are checked against the prompt set at planning time', () => {
  assert.ok(checkPromptNames('p-v3', ['base', 'engineered_prompt_honest'], 'prompts').ok);
  const bad = checkPromptNames('p-v1', ['base', 'engineered_prompt_honest', 'simple_dishonest_prompt'], 'prompts');
  assert.ok(!bad.ok);
  assert.equal(bad.error.param, 'prompts');
  assert.match(bad.error.message, /prompts "engineered_prompt_honest", "simple_dishonest_prompt" not in prompt set p-v1 \(it has base, simple_honest_prompt, engineered_prompt\)/);
  const ev = kind('eval-dilemmas');
  const r = externalInputsOf(ev, validParams(ev, { prompt_set: 'p-v1', prompts: ['base', 'engineered_prompt'] }), { projectDir: REPO_ROOT });
  assert.ok(r?.ok);
  const kt = kind('kl-target');
  const r2 = externalInputsOf(kt, validParams(kt, { prompt_set: 'p-v1' }), { projectDir: REPO_ROOT });
  assert.ok(r2 !== undefined && !r2.ok);
  assert.equal(r2.error.param, 'target_prompt');
  const r3 = externalInputsOf(kt, validParams(kt, { questions: 'nope.json' }), { projectDir: REPO_ROOT });
  assert.ok(r3 !== undefined && !r3.ok);
  assert.match(r3.error.message, /question pool .*nope\.json does not exist/);
});

void test('a coefficient sweep without α = 0 is a planning error at with.coeffs', () => {
  for (const name of ['eval-dilemmas', 'eval-iid', 'ablate-delora']) {
    const k = kind(name);
    const r = externalInputsOf(k, validParams(k, { coeffs: [-1, 1] }), { projectDir: REPO_ROOT });
    assert.ok(r !== undefined && !r.ok, name);
    assert.equal(r.error.param, 'coeffs');
    assert.match(r.error.message, /coeffs \[-1,1\] must include 0/);
    assert.ok(externalInputsOf(k, validParams(k, {}), { projectDir: REPO_ROOT }).ok, `${name} defaults`);
  }
});
