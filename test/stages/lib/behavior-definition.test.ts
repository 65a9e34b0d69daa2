/**
 * Behaviours as data (issue 16 point 3): the shipped definitions carry the spec's texts exactly (compared with the
 * quoted constants of stages/lib/prompts.ts, which test/stages/lib/prompts.test.ts pins to the spec), and a bad
 * definition is one line naming file:line:col and the key, at planning.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { behaviorFile, loadBehaviorDefinition, parseBehaviorDefinition, personaPrompt, personaSet, topicPrompts } from '../../../stages/lib/behavior-definition.js';
import { iidPrompt } from '../../../stages/lib/iid-claims.js';
import { evalIidKind } from '../../../stages/eval-iid/index.js';
import * as p from '../../../stages/lib/prompts.js';
import { dataKind } from '../../../stages/data/index.js';

import { REPO_ROOT } from '../../helpers/repo-root.js';
import { externalInputsOf, type ExternalInputsResult } from '../../../src/contract/stage-kind.js';
const tmp = mkdtempSync(join(tmpdir(), 'wsflow-behaviors-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

function load(name: string): ReturnType<typeof personaSet> & { def: Extract<ReturnType<typeof loadBehaviorDefinition>, { ok: true }>['value'] } {
  const r = loadBehaviorDefinition(behaviorFile(REPO_ROOT, name));
  assert.ok(r.ok, r.ok ? '' : r.error);
  return { def: r.value, ...personaSet(r.value, null) };
}

void test('honesty.yaml: the E2 and latest persona sets and the template, exactly; questions from the pool', () => {
  const { def, name, set } = load('honesty');
  assert.equal(name, 'e2');
  assert.deepEqual(set, { pos: [...p.HONESTY_PERSONAS_E2.pos], neg: [...p.HONESTY_PERSONAS_E2.neg] });
  assert.deepEqual(personaSet(def, 'latest').set, { pos: [...p.HONESTY_PERSONAS_LATEST.pos], neg: [...p.HONESTY_PERSONAS_LATEST.neg] });
  assert.deepEqual(set.pos.map((x) => personaPrompt(def, x)), p.honestySystemPrompts(p.HONESTY_PERSONAS_E2).pos);
  assert.deepEqual(set.neg.map((x) => personaPrompt(def, x)), p.honestySystemPrompts(p.HONESTY_PERSONAS_E2).neg);
  assert.deepEqual({ pos: personaPrompt(def, set.pos[0] as string), neg: personaPrompt(def, set.neg[0] as string) }, p.REPE_SYSTEM_PROMPTS.honesty);
  assert.equal(def.questions.source, 'pool');
  assert.equal(def.repePrompts, 'pool');
});

void test('sycophancy.yaml: the E1 personas as whole system prompts and the 20 training topics, exactly', () => {
  const { def, name, set } = load('sycophancy');
  assert.equal(name, 'e1');
  assert.deepEqual(set.pos.map((x) => personaPrompt(def, x)), [...p.SYCOPHANCY_POS_PERSONAS]);
  assert.deepEqual(set.neg.map((x) => personaPrompt(def, x)), [...p.SYCOPHANCY_NEG_PERSONAS]);
  assert.deepEqual(topicPrompts(def), p.SYCOPHANCY_TOPICS.slice(0, p.N_TRAIN_TOPICS).map(([c, q]) => p.sycophancyTrainPrompt(c, q)));
  assert.deepEqual({ pos: personaPrompt(def, set.pos[0] as string), neg: personaPrompt(def, set.neg[0] as string) }, p.REPE_SYSTEM_PROMPTS.sycophancy);
  assert.equal(def.repePrompts, 'topics');
});

const GOOD = `name: x
persona_template: "Be {persona}."
persona_sets:
  a:
    pos: [kind, calm]
    neg: [cruel, angry]
default_persona_set: a
questions:
  source: topics
  template: "I think {claim}. {question}"
  topics:
    - [cats are dogs, Right?]
`;

void test('a bad definition is one line naming file:line:col and the key', () => {
  const file = join(tmp, 'x.yaml');
  assert.ok(parseBehaviorDefinition(GOOD, file).ok);
  const bad = (text: string): string => {
    const r = parseBehaviorDefinition(text, file);
    assert.ok(!r.ok, 'must fail');
    assert.doesNotMatch(r.error, /\n/);
    return r.error;
  };
  assert.equal(bad(GOOD.replace('neg: [cruel, angry]', 'neg: [cruel]')), `${file}:6:10: persona_sets.a: 2 pos personas but 1 neg (pair i is pos[i] with neg[i])`);
  assert.match(bad(GOOD.replace('"Be {persona}."', '"Be {persona} {mood}."')), new RegExp(`^${file}:2:19: "persona_template": unknown placeholder \\{mood\\}`));
  assert.match(bad(GOOD.replace('name: x', 'name: y')), new RegExp(`^${file}:1:7: "name" is "y" but the file is x.yaml`));
  assert.match(bad(GOOD.replace('default_persona_set: a', 'default_persona_set: b')), new RegExp(`^${file}:7:22: "default_persona_set" is "b"; persona_sets has a`));
  assert.match(bad(GOOD.replace('    - [cats are dogs, Right?]', '    - [cats are dogs]')), new RegExp(`^${file}:12:7: questions.topics\\[0\\] must be a pair`));
  assert.match(bad(GOOD.replace('  source: topics', '  source: web')), new RegExp(`^${file}:9:11: questions.source must be "pool" or "topics"`));
  assert.match(bad(GOOD.replace('default_persona_set', 'defualt_persona_set')), new RegExp(`^${file}:7:1: the definition: unknown key "defualt_persona_set"`));
  assert.match(bad(GOOD.replace('persona_sets:', 'persona_sets: [')), new RegExp(`^${file}:\\d+:\\d+: not valid YAML`));
  assert.match(bad('- a\n'), new RegExp(`^${file}:1:1: a behaviour definition is a YAML mapping`));
});

void test('the data kind plans against the definition: the file is an external input; a missing or bad one, or an unknown persona set, is a planning error', () => {
  const project = join(tmp, 'project');
  mkdirSync(join(project, 'data', 'behaviors'), { recursive: true });
  writeFileSync(join(project, 'data', 'behaviors', 'x.yaml'), GOOD);
  writeFileSync(join(project, 'data', 'behaviors', 'broken.yaml'), GOOD.replace('name: x', 'name: broken').replace('neg: [cruel, angry]', 'neg: [cruel]'));
  const plan = (params: Record<string, unknown>): ExternalInputsResult => {
    const r = externalInputsOf(dataKind, { pool: 'q.json', ...params }, { projectDir: project });
    assert.ok(r !== undefined);
    return r;
  };
  const okPlan = plan({ behavior: 'x' });
  assert.ok(okPlan.ok, okPlan.ok ? '' : okPlan.error.message);
  assert.ok(okPlan.value.some((i) => i.label === 'behavior' && i.path === join(project, 'data', 'behaviors', 'x.yaml')));
  const missing = plan({ behavior: 'nope' });
  assert.ok(!missing.ok && missing.error.param === 'behavior' && missing.error.message.includes(join(project, 'data', 'behaviors', 'nope.yaml')), JSON.stringify(missing));
  const broken = plan({ behavior: 'broken' });
  assert.ok(!broken.ok && broken.error.message.startsWith(`${join(project, 'data', 'behaviors', 'broken.yaml')}:6:10:`), JSON.stringify(broken));
  const set = plan({ behavior: 'x', personas: 'e2' });
  assert.ok(!set.ok && set.error.param === 'personas' && /no persona set "e2"/.test(set.error.message), JSON.stringify(set));
});

void test('IID claims come from the behaviour definition: both shipped files give study-ref §11 prompt and its 12 held-out claims', () => {
  for (const b of ['honesty', 'sycophancy']) {
    const { def } = load(b);
    assert.deepEqual(def.iid, { claims: p.heldOutClaims(), template: p.IID_PROMPT_TEMPLATE, anchor: p.IID_ANCHOR }, b);
    const r = iidPrompt(REPO_ROOT, b, 4);
    assert.ok(r.ok, r.ok ? '' : r.error);
    assert.deepEqual(r.value.claims, p.heldOutClaims(4));
    assert.equal(r.value.file, behaviorFile(REPO_ROOT, b));
  }
  const builtIn = iidPrompt(REPO_ROOT, null, 12);
  assert.ok(builtIn.ok && builtIn.value.file === null && builtIn.value.claims.length === 12);
});

void test('the eval-iid kind plans against the definition’s iid: the file is an external input; no iid, a bad iid or too many claims is one line', () => {
  const project = join(tmp, 'iid-project');
  mkdirSync(join(project, 'data', 'behaviors'), { recursive: true });
  const withIid = `${GOOD}iid:\n  template: "Is it true that {claim}?"\n  claims: [cats purr, dogs bark]\n`;
  writeFileSync(join(project, 'data', 'behaviors', 'x.yaml'), withIid);
  writeFileSync(join(project, 'data', 'behaviors', 'noiid.yaml'), GOOD.replace('name: x', 'name: noiid'));
  const file = join(project, 'data', 'behaviors', 'x.yaml');
  const plan = (params: Record<string, unknown>): ExternalInputsResult => {
    const r = externalInputsOf(evalIidKind, { coeffs: [-1, 0, 1], ...params }, { projectDir: project });
    assert.ok(r !== undefined);
    return r;
  };
  const good = plan({ behavior: 'x', n_held_out: 2 });
  assert.ok(good.ok && good.value.some((i) => i.label === 'behavior' && i.path === file), JSON.stringify(good));
  const def = parseBehaviorDefinition(withIid, file);
  assert.ok(def.ok && def.value.iid !== null);
  assert.deepEqual(def.value.iid, { claims: ['cats purr', 'dogs bark'], template: 'Is it true that {claim}?', anchor: p.IID_ANCHOR });
  assert.deepEqual(p.iidConversation('cats purr', def.value.iid)[0], { role: 'user', content: 'Is it true that cats purr?' });
  const tooMany = plan({ behavior: 'x', n_held_out: 3 });
  assert.ok(!tooMany.ok && tooMany.error.param === 'behavior' && tooMany.error.message === `n_held_out is 3 but ${file} has 2 iid claims`, JSON.stringify(tooMany));
  const none = plan({ behavior: 'noiid', n_held_out: 1 });
  assert.ok(!none.ok && none.error.message.startsWith(`${join(project, 'data', 'behaviors', 'noiid.yaml')}: behaviour noiid has no \`iid\``), JSON.stringify(none));
  const r = parseBehaviorDefinition(withIid.replace('"Is it true that {claim}?"', '"Is it true?"'), file);
  assert.ok(!r.ok && /^.*:\d+:\d+: iid.template must contain \{claim\}$/.test(r.error), JSON.stringify(r));
  const builtIn = plan({ n_held_out: 12 });
  assert.ok(builtIn.ok && builtIn.value.length === 0);
});
